import { Module } from '@nestjs/common';
import { RelayModule } from '../relay';
import { ChannelAdaptersModule } from './channel-adapters.module';
import { GenericWebhookController } from './generic/generic-webhook.controller';
import { WebhookPipeline } from './webhook-pipeline';

@Module({
  imports: [RelayModule, ChannelAdaptersModule],
  controllers: [GenericWebhookController],
  providers: [WebhookPipeline],
})
export class ChannelsModule {}
