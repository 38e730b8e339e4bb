export { ChannelsModule } from './channels.module';
export { signGenericBody } from './generic/generic-channel';
