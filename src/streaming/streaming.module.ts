import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations';
import { RelayModule } from '../relay';
import { ConnectWebhookController } from './connect-webhook.controller';
import { SnsModule } from './sns.module';
import { StreamEventHandler } from './stream-event-handler';
import { TranscriptCatchUp } from './transcript-catch-up';

/**
 * `POST /webhooks/connect`: verified SNS deliveries of Connect's message stream, read and
 * handed to the outbound relay. Needs AppConfig and Metrics (global modules).
 */
@Module({
  imports: [SnsModule, ConversationsModule, RelayModule],
  controllers: [ConnectWebhookController],
  providers: [StreamEventHandler, TranscriptCatchUp],
})
export class StreamingModule {}
