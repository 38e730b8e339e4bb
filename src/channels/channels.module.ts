import { Module } from '@nestjs/common';
import { RelayModule } from '../relay';
import { ChannelRegistry } from './channel-registry';
import { GenericChannel } from './generic/generic-channel';
import { GenericWebhookController } from './generic/generic-webhook.controller';
import { WebhookPipeline } from './webhook-pipeline';

@Module({
  imports: [RelayModule],
  controllers: [GenericWebhookController],
  providers: [GenericChannel, WebhookPipeline, ChannelRegistry],
  exports: [ChannelRegistry],
})
export class ChannelsModule {}
