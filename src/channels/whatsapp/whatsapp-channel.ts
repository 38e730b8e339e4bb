import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config';
import type { CustomerFile, FetchedFile } from '../../conversations';
import type {
  ChannelAdapter,
  ChannelCapabilities,
  OutboundMessage,
  SendReceipt,
  WebhookContent,
  WebhookRequest,
} from '../channel-adapter';

@Injectable()
export class WhatsAppChannel implements ChannelAdapter {
  readonly capabilities: ChannelCapabilities = {
    maxTextLength: 1_600,
    markdown: false,
    attachments: true,
  };

  constructor(private readonly config: AppConfig) {}

  get enabled(): boolean {
    return this.config.whatsapp !== undefined;
  }

  verify(_request: WebhookRequest): boolean {
    return false;
  }

  parse(_request: WebhookRequest, _receivedAt: number): WebhookContent {
    throw new Error('TODO');
  }

  download(_file: CustomerFile): Promise<FetchedFile> {
    throw new Error('TODO');
  }

  send(_message: OutboundMessage): Promise<SendReceipt> {
    throw new Error('TODO');
  }
}
