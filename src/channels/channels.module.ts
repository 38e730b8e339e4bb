import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations';
import { RelayModule } from '../relay';
import { ChannelAdaptersModule } from './channel-adapters.module';
import { GenericWebhookController } from './generic/generic-webhook.controller';
import { TwilioStatusWebhook } from './twilio/twilio-status-webhook';
import { TwilioWebhookController } from './twilio/twilio-webhook.controller';
import { WebhookPipeline } from './webhook-pipeline';
import { WhatsAppWebhookController } from './whatsapp/whatsapp-webhook.controller';

/** The providers' webhooks: each verifies, parses and hands over to the relay. */
@Module({
  imports: [RelayModule, ChannelAdaptersModule, ConversationsModule],
  controllers: [GenericWebhookController, TwilioWebhookController, WhatsAppWebhookController],
  providers: [WebhookPipeline, TwilioStatusWebhook],
})
export class ChannelsModule {}
