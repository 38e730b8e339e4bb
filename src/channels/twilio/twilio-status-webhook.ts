import { Injectable } from '@nestjs/common';
import type { WebhookContent, WebhookRequest, WebhookSource } from '../channel-adapter';

@Injectable()
export class TwilioStatusWebhook implements WebhookSource {
  verify(_request: WebhookRequest): boolean {
    return false;
  }

  parse(_request: WebhookRequest, _receivedAt: number): WebhookContent {
    throw new Error('TODO');
  }
}
