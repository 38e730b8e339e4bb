export { SNS_CLIENT } from './sns-client';
export {
  SNS_VERIFIER_OPTIONS,
  SnsMessageVerifier,
  type SnsVerifierOptions,
} from './sns-message-verifier';
export { SnsRejection, type SnsRejectionReason, type SnsRejectionStatus } from './sns-rejection';
export {
  SNS_SUBSCRIBE_RETRY,
  SnsSubscriptions,
  type StartupSubscription,
  type SubscribeRetryPolicy,
} from './sns-subscriptions';
export { SnsModule } from './sns.module';
export { StreamingModule } from './streaming.module';
export { StreamEventHandler, type StreamOutcome } from './stream-event-handler';
export type {
  VerifiedNotification,
  VerifiedSnsMessage,
  VerifiedSubscriptionConfirmation,
  VerifiedUnsubscribeConfirmation,
} from './verified-sns-message';
export {
  type ConnectStreamEvent,
  InvalidStreamEventError,
  isForCustomer,
  parseStreamEvent,
  type StreamEventKind,
} from './connect-stream-event';
