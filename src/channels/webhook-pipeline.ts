import {
  BadRequestException,
  Injectable,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request } from 'express';
import type { RawBodyRequest } from '../http';
import { InboundIntake } from '../relay';
import { type ChannelAdapter, InvalidWebhookError, type WebhookRequest } from './channel-adapter';

export interface WebhookOutcome {
  accepted: number;
  duplicates: number;
}

/**
 * The path every provider webhook takes: verify → parse → durable enqueue. A 2xx means every
 * message is in Redis; nothing is enqueued for a request answered with 4xx or 503.
 */
@Injectable()
export class WebhookPipeline {
  private readonly logger = new Logger(WebhookPipeline.name);

  constructor(private readonly intake: InboundIntake) {}

  async handle(adapter: ChannelAdapter, req: Request & RawBodyRequest): Promise<WebhookOutcome> {
    const request: WebhookRequest = {
      headers: req.headers,
      rawBody: req.rawBody ?? Buffer.alloc(0),
      body: req.body as unknown,
      params: req.params as Record<string, string>,
    };
    if (!adapter.verify(request)) throw new UnauthorizedException('the signature does not match');
    let messages;
    try {
      messages = adapter.parse(request, Date.now());
    } catch (error) {
      if (error instanceof InvalidWebhookError) throw new BadRequestException(error.reason);
      throw error;
    }
    try {
      const outcomes = await this.intake.accept(messages);
      const duplicates = outcomes.filter((outcome) => outcome === 'duplicate').length;
      return { accepted: outcomes.length - duplicates, duplicates };
    } catch (error) {
      this.logger.warn(
        { reason: error instanceof Error ? error.message : String(error) },
        'could not store the webhook; answering 503 so that the provider retries',
      );
      throw new ServiceUnavailableException('the message store is unavailable; retry later');
    }
  }
}
