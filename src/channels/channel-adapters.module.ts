import { Module } from '@nestjs/common';
import { ChannelRegistry } from './channel-registry';
import { GenericChannel } from './generic/generic-channel';
import { TwilioChannel } from './twilio/twilio-channel';
import { WhatsAppChannel } from './whatsapp/whatsapp-channel';

/** The channels' adapters, without their webhooks: what the relay sends and downloads through. */
@Module({
  providers: [GenericChannel, TwilioChannel, WhatsAppChannel, ChannelRegistry],
  exports: [GenericChannel, TwilioChannel, WhatsAppChannel, ChannelRegistry],
})
export class ChannelAdaptersModule {}
