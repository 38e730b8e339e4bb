import { Module } from '@nestjs/common';
import { ChannelRegistry } from './channel-registry';
import { GenericChannel } from './generic/generic-channel';

/** The channels' adapters, without their webhooks: what the outbound relay sends through. */
@Module({
  providers: [GenericChannel, ChannelRegistry],
  exports: [GenericChannel, ChannelRegistry],
})
export class ChannelAdaptersModule {}
