import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import type { ConversationLanes } from './conversation-lanes';
import { InboundLanes } from './inbound-lanes';
import type { InboundMessage } from './inbound-message';
import type { LaneJob } from './lane-worker';
import type { OutboundItem } from './outbound-item';
import { OutboundLanes } from './outbound-lanes';
import type { QueueName } from './queues';

/** A job in a queue's failed set, with the message it carried. */
export interface FailedMessage {
  jobId: string;
  messageId: string;
  conversationId: string;
  failedReason: string;
  attemptsMade: number;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the last attempt. */
  failedAt?: number;
  /** The message as its lane keeps it; undefined once its record expired. */
  payload?: InboundMessage | OutboundItem;
}

export type RetryOutcome = 'retried' | 'no-such-job' | 'not-failed' | 'expired';
export type DiscardOutcome = 'discarded' | 'no-such-job' | 'not-failed';

/**
 * What an operator can do with messages that failed for good: look at them, retry one in its
 * conversation's lane, or give up on it. Only jobs in the failed set are touched; a job that is
 * waiting, delayed or running belongs to the lane workers.
 */
@Injectable()
export class FailedMessages {
  private readonly lanes: Record<QueueName, ConversationLanes<InboundMessage | OutboundItem>>;
  private readonly queues: Record<QueueName, Queue<LaneJob>>;

  constructor(
    inboundLanes: InboundLanes,
    outboundLanes: OutboundLanes,
    @InjectQueue('inbound') inbound: Queue<LaneJob>,
    @InjectQueue('outbound') outbound: Queue<LaneJob>,
  ) {
    this.lanes = { inbound: inboundLanes, outbound: outboundLanes };
    this.queues = { inbound, outbound };
  }

  /** Most recently failed first; `total` counts the whole failed set. */
  async list(
    queue: QueueName,
    offset: number,
    limit: number,
  ): Promise<{ total: number; messages: FailedMessage[] }> {
    const [total, jobs] = await Promise.all([
      this.queues[queue].getFailedCount(),
      this.queues[queue].getFailed(offset, offset + limit - 1),
    ]);
    const messages = await Promise.all(
      jobs.filter((job) => job !== undefined).map((job) => this.describe(queue, job)),
    );
    return { total, messages };
  }

  /**
   * Puts the message back at the end of its conversation's lane, then its job back in the
   * queue with its attempts renewed: the lane worker delivers it once in its turn, and the
   * conversation's later messages are not held behind anything else.
   */
  async retry(queue: QueueName, jobId: string): Promise<RetryOutcome> {
    const job = await this.queues[queue].getJob(jobId);
    if (!job) return 'no-such-job';
    if (!(await job.isFailed())) return 'not-failed';
    const { conversationId, messageId } = job.data;
    const lanes = this.lanes[queue];
    const status = await lanes.requeue(conversationId, messageId);
    if (status === 'gone') return 'expired';
    if (status !== 'pending') return 'not-failed';
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    } catch (error) {
      // Pending while its job stays failed, the message would hold its lane until a later one repairs it.
      await lanes.settle(conversationId, messageId, 'failed');
      throw error;
    }
    return 'retried';
  }

  /** Removes the job and marks its message so that it is never delivered. */
  async discard(queue: QueueName, jobId: string): Promise<DiscardOutcome> {
    const job = await this.queues[queue].getJob(jobId);
    if (!job) return 'no-such-job';
    if (!(await job.isFailed())) return 'not-failed';
    await this.lanes[queue].discard(job.data.conversationId, job.data.messageId);
    await job.remove();
    return 'discarded';
  }

  private async describe(queue: QueueName, job: Job<LaneJob>): Promise<FailedMessage> {
    const stored = await this.lanes[queue].message(job.data.messageId);
    return {
      jobId: job.id ?? job.data.messageId,
      messageId: job.data.messageId,
      conversationId: job.data.conversationId,
      failedReason: job.failedReason,
      attemptsMade: job.attemptsMade,
      createdAt: job.timestamp,
      failedAt: job.finishedOn,
      payload: stored?.payload,
    };
  }
}
