import type { SNSClient } from '@aws-sdk/client-sns';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { SNS_CLIENT, snsClientProvider } from './sns-client';
import { SnsMessageVerifier } from './sns-message-verifier';
import { SnsSubscriptions } from './sns-subscriptions';

/**
 * The security and subscription layer of `POST /webhooks/connect`: SNS message verification and
 * the bridge's SNS subscriptions. Needs AppConfig (the global ConfigModule).
 */
@Module({
  providers: [snsClientProvider, SnsMessageVerifier, SnsSubscriptions],
  exports: [SnsMessageVerifier, SnsSubscriptions],
})
export class SnsModule implements OnApplicationShutdown {
  constructor(@Inject(SNS_CLIENT) private readonly client: SNSClient) {}

  /** Closes the client's keep-alive sockets. */
  onApplicationShutdown(): void {
    this.client.destroy();
  }
}
