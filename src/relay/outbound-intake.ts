import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { AppConfig } from '../config';
import { ConversationTrace } from '../conversations';
import type { MessageStatus } from './conversation-lanes';
import { enqueueInLane } from './lane-intake';
import type { LaneJob } from './lane-worker';
import type { OutboundItem } from './outbound-item';
import { OutboundLanes } from './outbound-lanes';

/**
 * Provider 429 and 5xx are retried with exponential backoff up to OUTBOUND_ATTEMPTS; the first
 * run waits OUTBOUND_ORDER_WINDOW_MS for earlier items that SNS delivers late.
 */
export function outboundJobOptions(config: AppConfig, messageId: string): JobsOptions {
  return {
    jobId: messageId,
    delay: config.relay.outboundOrderWindowMs,
    attempts: config.relay.outboundAttempts,
    backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

// BullMQ job ids may not contain ':'; encodeURIComponent leaves none.
const messageIdOf = (itemId: string) => encodeURIComponent(itemId);

/**
 * Stores what Connect streams for a customer before the SNS endpoint answers 2xx: one lane
 * entry per stream item, deduplicated by the item's Id (a repeated SNS delivery, or the same
 * item published twice, is sent once) and ordered by Connect's AbsoluteTime.
 */
@Injectable()
export class OutboundIntake {
  constructor(
    private readonly config: AppConfig,
    private readonly lanes: OutboundLanes,
    private readonly trace: ConversationTrace,
    @InjectQueue('outbound') private readonly queue: Queue<LaneJob>,
  ) {}

  /** The stream item Ids among `itemIds` that the relay has never accepted (or forgot). */
  /** What the relay knows of each stream item: its status, or undefined if it never came. */
  async itemStatuses(itemIds: string[]): Promise<Map<string, MessageStatus | undefined>> {
    const statuses = await this.lanes.statuses(itemIds.map(messageIdOf));
    return new Map(itemIds.map((itemId, index) => [itemId, statuses[index]]));
  }

  async accept(
    conversationId: string,
    item: OutboundItem,
    absoluteTime: string,
  ): Promise<'accepted' | 'duplicate'> {
    const messageId = messageIdOf(item.itemId);
    const at = Date.parse(absoluteTime);
    const status = await enqueueInLane(
      this.lanes,
      this.queue,
      outboundJobOptions(this.config, messageId),
      { messageId, conversationId },
      item,
      Number.isNaN(at) ? Date.now() : at,
    );
    if (status !== 'new') return 'duplicate';
    await this.trace.append(conversationId, {
      event: 'received',
      direction: 'outbound',
      connectMessageId: item.itemId,
      contactId: item.contactId,
    });
    return 'accepted';
  }
}
