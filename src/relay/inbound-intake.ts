import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { AppConfig } from '../config';
import { ConversationTrace, conversationIdOf } from '../conversations';
import { InboundLanes } from './inbound-lanes';
import type { InboundMessage } from './inbound-message';
import { enqueueInLane } from './lane-intake';
import type { LaneJob } from './lane-worker';

export type IntakeOutcome = 'accepted' | 'duplicate';

/**
 * Throttling and 5xx are retried with exponential backoff and jitter, up to INBOUND_ATTEMPTS;
 * a delivered job is removed at once (the message record keeps deduplicating), a failed one
 * stays a week in the failed set with its reason.
 */
export function inboundJobOptions(config: AppConfig, messageId: string): JobsOptions {
  return {
    jobId: messageId,
    attempts: config.relay.inboundAttempts,
    backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/**
 * Stores inbound messages durably before the webhook answers 2xx. Every command fails fast
 * while Redis is away (the request connection has no offline queue), so the webhook can
 * answer 503 and the provider retries.
 */
@Injectable()
export class InboundIntake {
  constructor(
    private readonly config: AppConfig,
    private readonly lanes: InboundLanes,
    private readonly trace: ConversationTrace,
    @InjectQueue('inbound') private readonly queue: Queue<LaneJob>,
  ) {}

  async accept(messages: InboundMessage[]): Promise<IntakeOutcome[]> {
    const outcomes: IntakeOutcome[] = [];
    for (const message of messages) outcomes.push(await this.acceptOne(message));
    return outcomes;
  }

  private async acceptOne(message: InboundMessage): Promise<IntakeOutcome> {
    const conversationId = conversationIdOf(message);
    // BullMQ job ids may not contain ':'; encodeURIComponent leaves none.
    const messageId = encodeURIComponent(`${message.channel}/${message.providerMessageId}`);
    const status = await enqueueInLane(
      this.lanes,
      this.queue,
      inboundJobOptions(this.config, messageId),
      { messageId, conversationId },
      message,
    );
    if (status !== 'new') return 'duplicate';
    await this.trace.append(conversationId, {
      event: 'received',
      direction: 'inbound',
      providerMessageId: message.providerMessageId,
    });
    return 'accepted';
  }
}
