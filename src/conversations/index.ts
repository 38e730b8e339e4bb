export {
  type ActiveConversation,
  type ContactDetails,
  type Conversation,
  type ConversationKey,
  type ConversationState,
  type ConversationView,
  type EndedConversation,
  conversationIdOf,
} from './conversation';
export {
  ConversationLockTimeoutError,
  ConversationStoreError,
  CorruptConversationError,
} from './conversation-errors';
export {
  type ConversationActivity,
  type ConversationIndex,
  ConversationStore,
  type CredentialExpiry,
  type IndexCollectionStep,
  type StreamContactLookup,
  SUPERSEDED_CONTACT_GRACE_SECONDS,
} from './conversation-store';
export {
  ConversationTrace,
  type NewTraceEvent,
  parseTrace,
  TRACE_MAX_EVENTS,
  TRACE_TTL_SECONDS,
  type TraceEvent,
  type TraceEventType,
} from './conversation-trace';
export { ConversationsModule } from './conversations.module';
export { TokenCipher, TokenDecryptionError } from './token-cipher';
export {
  type CustomerFile,
  type CustomerMessage,
  ConversationService,
  type FetchedFile,
  type FileDownloader,
} from './conversation-service';
export { splitText } from './split-text';
