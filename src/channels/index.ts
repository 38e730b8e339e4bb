export { ChannelsModule } from './channels.module';
export { signGenericBody } from './generic/generic-channel';
export { signatureMatches } from './hmac-signature';
