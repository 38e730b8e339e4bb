export { QUEUES, type QueueName } from './queues';
export { RelayModule } from './relay.module';
export {
  type DiscardOutcome,
  type FailedMessage,
  FailedMessages,
  type RetryOutcome,
} from './failed-messages';
export { InboundIntake, type IntakeOutcome } from './inbound-intake';
export type { LaneJob } from './lane-worker';
export type { InboundMessage } from './inbound-message';
export { OutboundIntake } from './outbound-intake';
export { type ContactItem, type MissingItemsSource, OutboundOrder } from './outbound-order';
export type { AgentAttachment, OutboundItem } from './outbound-item';
