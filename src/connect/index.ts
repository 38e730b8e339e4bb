export { CONNECT_CLIENT, CONNECT_PARTICIPANT_CLIENT } from './connect-clients';
export {
  ConnectAccessDeniedError,
  type ConnectFailureDetails,
  ConnectGatewayError,
  type ConnectOperation,
  ConnectRejectedError,
  ConnectRetryableError,
} from './connect-errors';
export { ConnectGateway } from './connect-gateway';
export type {
  AttachmentLink,
  AttachmentToUpload,
  OutgoingEvent,
  OutgoingMessage,
  ParticipantConnection,
  SentMessage,
  StartChatRequest,
  StartedChat,
  StartedStreaming,
  TranscriptItem,
  UploadedAttachment,
} from './connect-types';
export { ConnectModule } from './connect.module';
