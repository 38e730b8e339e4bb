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
export { StreamingModule } from './streaming.module';
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
