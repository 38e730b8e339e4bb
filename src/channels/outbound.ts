/**
 * The face of the channels for the outbound relay. Separate from index.ts, whose webhook
 * module imports the relay: the relay importing index.ts would close an import cycle.
 */
export {
  type ChannelAdapter,
  type ChannelCapabilities,
  ChannelSendError,
  type OutboundMessage,
} from './channel-adapter';
export { ChannelAdaptersModule } from './channel-adapters.module';
export { ChannelRegistry } from './channel-registry';
