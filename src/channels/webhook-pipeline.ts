import {
  BadRequestException,
  Injectable,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request } from 'express';
import { ConversationStore, ConversationTrace, conversationIdOf } from '../conversations';
import type { RawBodyRequest } from '../http';
import { Metrics } from '../ops';
import { InboundIntake } from '../relay';
import {
  type DeliveryStatus,
  InvalidWebhookError,
  type WebhookContent,
  type WebhookRequest,
  type WebhookSource,
} from './channel-adapter';

export interface WebhookOutcome {
  accepted: number;
  duplicates: number;
  /** Delivery statuses recorded in a conversation's trace. */
  statuses: number;
}

/**
 * The path every provider webhook takes: verify → parse → durable enqueue, and delivery statuses
 * into their conversation's trace. A 2xx means every message is in Redis; nothing is enqueued
 * for a request answered with 4xx, and a 503 (Redis away) makes the provider retry.
 */
@Injectable()
export class WebhookPipeline {
  private readonly logger = new Logger(WebhookPipeline.name);
  private readonly statusCounter;

  constructor(
    private readonly intake: InboundIntake,
    private readonly store: ConversationStore,
    private readonly trace: ConversationTrace,
    metrics: Metrics,
  ) {
    this.statusCounter = metrics.counter(
      'channel_delivery_statuses_total',
      'Delivery statuses providers reported for messages sent to customers',
      ['channel', 'status'],
    );
  }

  async handle(source: WebhookSource, req: Request & RawBodyRequest): Promise<WebhookOutcome> {
    const request: WebhookRequest = {
      headers: req.headers,
      url: req.originalUrl,
      rawBody: req.rawBody ?? Buffer.alloc(0),
      body: req.body as unknown,
      params: req.params as Record<string, string>,
    };
    if (!source.verify(request)) throw new UnauthorizedException('the signature does not match');
    let content: WebhookContent;
    try {
      content = source.parse(request, Date.now());
    } catch (error) {
      if (error instanceof InvalidWebhookError) throw new BadRequestException(error.reason);
      throw error;
    }
    try {
      const outcomes = await this.intake.accept(content.messages);
      const duplicates = outcomes.filter((outcome) => outcome === 'duplicate').length;
      let statuses = 0;
      for (const status of content.statuses) {
        if (await this.record(status)) statuses += 1;
      }
      return { accepted: outcomes.length - duplicates, duplicates, statuses };
    } catch (error) {
      this.logger.warn(
        { reason: error instanceof Error ? error.message : String(error) },
        'could not store the webhook; answering 503 so that the provider retries',
      );
      throw new ServiceUnavailableException('the message store is unavailable; retry later');
    }
  }

  /** Statuses of messages the bridge did not send (another system on the same number) are skipped. */
  private async record(status: DeliveryStatus): Promise<boolean> {
    this.statusCounter.inc({ channel: status.channel, status: status.status });
    const conversationId = conversationIdOf(status);
    if (!(await this.store.exists(conversationId))) return false;
    await this.trace.append(conversationId, {
      event: 'status',
      direction: 'outbound',
      providerMessageId: status.providerMessageId,
      status: status.status,
      ...(status.reason ? { reason: status.reason } : {}),
    });
    return true;
  }
}
