export { type ChannelAdapter, ChannelSendError, type OutboundMessage } from './channel-adapter';
export { ChannelRegistry } from './channel-registry';
export { ChannelsModule } from './channels.module';
export { signGenericBody } from './generic/generic-channel';
