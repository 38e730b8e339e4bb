import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import {
  type DiscardOutcome,
  type FailedMessage,
  FailedMessages,
  type InboundMessage,
  type LaneJob,
  type OutboundItem,
  QUEUES,
  type QueueName,
  type RetryOutcome,
} from '../relay';

const COUNTED_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

export interface QueueOverview {
  queue: QueueName;
  paused: boolean;
  counts: Record<(typeof COUNTED_STATES)[number], number>;
}

/** A failed job as the admin API shows it. */
export type FailedJobView = Omit<FailedMessage, 'jobId' | 'payload'> & {
  id: string;
  /** What the message was, while the relay keeps it (a week); null afterwards. */
  message: ReturnType<typeof messageView> | null;
};

/** The relay's queues for an operator: counts, failed jobs, retry, discard, pause; actions logged. */
@Injectable()
export class RelayJobs {
  private readonly logger = new Logger(RelayJobs.name);
  private readonly queues: Record<QueueName, Queue<LaneJob>>;

  constructor(
    private readonly failed: FailedMessages,
    @InjectQueue('inbound') inbound: Queue<LaneJob>,
    @InjectQueue('outbound') outbound: Queue<LaneJob>,
  ) {
    this.queues = { inbound, outbound };
  }

  overview(): Promise<QueueOverview[]> {
    return Promise.all(
      QUEUES.map(async (queue) => {
        const [paused, counts] = await Promise.all([
          this.queues[queue].isPaused(),
          this.queues[queue].getJobCounts(...COUNTED_STATES),
        ]);
        return { queue, paused, counts: counts as QueueOverview['counts'] };
      }),
    );
  }

  async failedJobs(
    queue: QueueName,
    offset: number,
    limit: number,
  ): Promise<{ total: number; jobs: FailedJobView[] }> {
    const { total, messages } = await this.failed.list(queue, offset, limit);
    return {
      total,
      jobs: messages.map(({ jobId, payload, ...job }) => ({
        id: jobId,
        ...job,
        message: payload ? messageView(payload) : null,
      })),
    };
  }

  async retry(queue: QueueName, jobId: string): Promise<RetryOutcome> {
    const id = await this.knownJobId(queue, jobId);
    const outcome = await this.failed.retry(queue, id);
    if (outcome === 'retried') {
      this.logger.log({ queue, jobId: id }, 'an operator retried a failed job');
    }
    return outcome;
  }

  async discard(queue: QueueName, jobId: string): Promise<DiscardOutcome> {
    const id = await this.knownJobId(queue, jobId);
    const outcome = await this.failed.discard(queue, id);
    if (outcome === 'discarded') {
      this.logger.log({ queue, jobId: id }, 'an operator discarded a failed job');
    }
    return outcome;
  }

  /** Every job failed at the time of the call, once: one failing again meanwhile stays failed. */
  async retryAll(queue: QueueName): Promise<{ retried: number; skipped: number }> {
    const outcomes = await this.forEachFailed(queue, (id) => this.failed.retry(queue, id));
    const retried = outcomes.filter((outcome) => outcome === 'retried').length;
    const result = { retried, skipped: outcomes.length - retried };
    this.logger.log({ queue, ...result }, 'an operator retried the failed jobs');
    return result;
  }

  async discardAll(queue: QueueName): Promise<{ discarded: number; skipped: number }> {
    const outcomes = await this.forEachFailed(queue, (id) => this.failed.discard(queue, id));
    const discarded = outcomes.filter((outcome) => outcome === 'discarded').length;
    const result = { discarded, skipped: outcomes.length - discarded };
    this.logger.log({ queue, ...result }, 'an operator discarded the failed jobs');
    return result;
  }

  /** Stops every worker of the queue from taking new jobs (those running finish). */
  async pause(queue: QueueName): Promise<void> {
    await this.queues[queue].pause();
    this.logger.log({ queue }, 'an operator paused the queue');
  }

  async resume(queue: QueueName): Promise<void> {
    await this.queues[queue].resume();
    this.logger.log({ queue }, 'an operator resumed the queue');
  }

  private async forEachFailed<T>(queue: QueueName, act: (jobId: string) => Promise<T>) {
    const ids = await this.queues[queue].getRanges(['failed'], 0, -1);
    const outcomes: T[] = [];
    for (const id of ids) outcomes.push(await act(id));
    return outcomes;
  }

  /**
   * Job ids are URL-encoded message ids (`generic%3Aapp%2F…`); pasted into a path unencoded,
   * they arrive decoded. Either form finds the job.
   */
  private async knownJobId(queue: QueueName, jobId: string): Promise<string> {
    if (await this.queues[queue].getJob(jobId)) return jobId;
    return encodeURIComponent(jobId);
  }
}

/** The stored message without what could be a credential: a customer file's source URL may be pre-signed. */
function messageView(payload: InboundMessage | OutboundItem) {
  if ('kind' in payload) return payload;
  const attachments = payload.attachments.map(({ contentType, name }) => ({ contentType, name }));
  return { ...payload, attachments };
}
