import {
  BadRequestException,
  Controller,
  Headers,
  HttpCode,
  HttpException,
  Logger,
  Post,
  Req,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { Request } from 'express';
import type { Counter } from 'prom-client';
import { Metrics } from '../ops';
import { SnsMessageVerifier } from './sns-message-verifier';
import { SnsRejection } from './sns-rejection';
import { SnsSubscriptions } from './sns-subscriptions';
import { StreamEventHandler, type StreamOutcome } from './stream-event-handler';
import type { VerifiedSnsMessage } from './verified-sns-message';

const TYPE_OF_KIND: Record<VerifiedSnsMessage['kind'], string> = {
  notification: 'Notification',
  'subscription-confirmation': 'SubscriptionConfirmation',
  'unsubscribe-confirmation': 'UnsubscribeConfirmation',
};

export interface SnsAnswer {
  type: string;
  outcome: StreamOutcome | 'confirmed' | 'noted';
}

/**
 * `POST /webhooks/connect`: SNS deliveries of the Connect message stream. Anything not signed
 * by SNS for an allowed topic is refused (403) before it is read further; a 2xx means the item
 * is stored; while Redis or SNS is unreachable the answer is 503 and SNS delivers again.
 */
@Controller('webhooks')
export class ConnectWebhookController {
  private readonly logger = new Logger(ConnectWebhookController.name);
  private readonly received: Counter<'type' | 'outcome'>;

  constructor(
    private readonly verifier: SnsMessageVerifier,
    private readonly subscriptions: SnsSubscriptions,
    private readonly events: StreamEventHandler,
    metrics: Metrics,
  ) {
    this.received = metrics.counter(
      'sns_messages_total',
      'SNS messages received on /webhooks/connect, by type and outcome',
      ['type', 'outcome'],
    );
  }

  @Post('connect')
  @HttpCode(200)
  async receive(
    @Req() req: Request,
    @Headers('x-amz-sns-message-type') declaredType: string | undefined,
  ): Promise<SnsAnswer> {
    const message = await this.verify(req.body);
    const type = TYPE_OF_KIND[message.kind];
    if (declaredType !== undefined && declaredType !== type) {
      this.received.inc({ type, outcome: 'type-mismatch' });
      throw new BadRequestException(
        `x-amz-sns-message-type says ${declaredType}, the body ${type}`,
      );
    }
    const outcome = await this.act(message);
    this.received.inc({ type, outcome });
    return { type, outcome };
  }

  private async verify(body: unknown): Promise<VerifiedSnsMessage> {
    try {
      return await this.verifier.verify(body);
    } catch (error) {
      if (!(error instanceof SnsRejection)) throw error;
      this.received.inc({ type: 'unverified', outcome: error.reason });
      throw new HttpException(
        { statusCode: error.status, error: error.reason, message: error.message },
        error.status,
      );
    }
  }

  private async act(message: VerifiedSnsMessage): Promise<SnsAnswer['outcome']> {
    switch (message.kind) {
      case 'subscription-confirmation':
        await this.unavailableOnError('could not confirm the SNS subscription', () =>
          this.subscriptions.confirm(message.topicArn, message.token),
        );
        return 'confirmed';
      case 'unsubscribe-confirmation':
        this.logger.warn({ topicArn: message.topicArn }, 'SNS says the endpoint was unsubscribed');
        return 'noted';
      case 'notification':
        return this.unavailableOnError('could not store a stream item', () =>
          this.events.handle(message),
        );
    }
  }

  private async unavailableOnError<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn({ reason }, `${what}; answering 503 so that SNS retries`);
      throw new ServiceUnavailableException(`${what}; retry later`);
    }
  }
}
