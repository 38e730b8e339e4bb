import { InjectQueue } from '@nestjs/bullmq';
import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import { DelayedError, type Job, type Queue, UnrecoverableError, Worker } from 'bullmq';
import { AppConfig } from '../config';
import { ConnectRejectedError } from '../connect';
import { ConversationService } from '../conversations';
import { RedisConnections, RedisKeys } from '../redis';
import { ConversationLanes } from './conversation-lanes';
import { type InboundJob, inboundJobOptions } from './inbound-intake';

/** How long a message out of turn sleeps before it looks again, if nobody wakes it earlier. */
const TURN_CHECK_MS = 5_000;
/**
 * How soon a woken job runs. Not at once: the run that just moved it to the delayed set may
 * still be finishing in this worker, and BullMQ tracks a job's lock by its id.
 */
const HANDOVER_MS = 25;

/**
 * Delivers customers' messages to Connect, one lane head at a time per conversation.
 * A message that is not at the head of its lane moves itself to the delayed set; the head,
 * once settled, wakes the next one, so waiting costs no polling in the common case. A head
 * that can no longer settle itself (its job failed without running, e.g. after stalling twice)
 * is settled as failed by the 'failed' event or by the message waiting behind it.
 */
@Injectable()
export class InboundWorker implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(InboundWorker.name);
  private worker?: Worker<InboundJob>;

  constructor(
    private readonly config: AppConfig,
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
    private readonly lanes: ConversationLanes,
    private readonly conversations: ConversationService,
    @InjectQueue('inbound') private readonly queue: Queue<InboundJob>,
  ) {}

  onModuleInit(): void {
    this.worker = new Worker<InboundJob>(
      'inbound',
      (job, token) => this.process(job, token ?? ''),
      {
        connection: this.connections.forWorker('inbound'),
        prefix: this.keys.prefix,
        concurrency: this.config.relay.inboundConcurrency,
      },
    );
    this.worker.on('error', (error) =>
      this.logger.warn({ reason: error.message }, 'inbound worker error'),
    );
    this.worker.on('failed', (job) => {
      if (job) void this.settleIfFailedForGood(job).catch((error: Error) => this.warn(error));
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }

  private async process(job: Job<InboundJob>, token: string): Promise<string> {
    const { messageId, conversationId } = job.data;
    const status = await this.lanes.status(messageId);
    const head = await this.lanes.head(conversationId);
    if (status !== 'pending') {
      // Settled before (a duplicate job) or its record expired: it must not hold the lane.
      if (head === messageId) await this.settle(conversationId, messageId, status ?? 'failed');
      return `already ${status ?? 'gone'}`;
    }
    // An empty lane with the message still pending means the lane was lost: deliver it anyway.
    if (head !== null && head !== messageId) await this.waitForTurn(job, token, head);
    const message = await this.lanes.message(messageId);
    if (!message) return 'already settled';

    const attempt = job.attemptsMade + 1;
    try {
      await this.conversations.deliver(conversationId, messageId, message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const permanent = error instanceof ConnectRejectedError;
      if (!permanent && attempt < (job.opts.attempts ?? 1)) {
        await this.conversations.recordRetry(conversationId, message, attempt, reason);
        throw error;
      }
      await this.settle(conversationId, messageId, 'failed');
      await this.conversations
        .recordFailure(conversationId, message, reason)
        .catch((traceError: Error) => this.warn(traceError));
      throw permanent ? new UnrecoverableError(reason) : error;
    }
    await this.settle(conversationId, messageId, 'delivered');
    return 'delivered';
  }

  private async settle(
    conversationId: string,
    messageId: string,
    status: 'delivered' | 'failed',
  ): Promise<void> {
    const next = await this.lanes.settle(conversationId, messageId, status);
    if (next) await this.wake(next, conversationId);
  }

  /** A job that ended in the failed set while its message is still pending: settle it. */
  private async settleIfFailedForGood(job: Job<InboundJob>): Promise<void> {
    const { messageId, conversationId } = job.data;
    if ((await job.getState()) !== 'failed') return;
    if ((await this.lanes.status(messageId)) !== 'pending') return;
    const message = await this.lanes.message(messageId);
    await this.settle(conversationId, messageId, 'failed');
    if (message) {
      await this.conversations.recordFailure(conversationId, message, job.failedReason);
    }
  }

  /** Wakes the next message's job; re-adds it when it was lost (stored, but never enqueued). */
  private async wake(messageId: string, conversationId: string): Promise<void> {
    const job = await this.queue.getJob(messageId);
    if (!job) {
      const options = inboundJobOptions(this.config, messageId);
      await this.queue.add('message', { messageId, conversationId }, options);
      return;
    }
    if (await job.isDelayed()) await job.changeDelay(HANDOVER_MS).catch(() => undefined);
  }

  private async waitForTurn(job: Job<InboundJob>, token: string, head: string): Promise<never> {
    const { messageId, conversationId } = job.data;
    await job.moveToDelayed(Date.now() + TURN_CHECK_MS, token);
    // The head may have settled between the check and the move, waking nobody: look again.
    const current = await this.lanes.head(conversationId);
    if (current === messageId) await job.changeDelay(HANDOVER_MS).catch(() => undefined);
    else if (current === head) await this.repairHead(current, conversationId);
    throw new DelayedError();
  }

  /** The head has not moved since the last look: its job may be lost or failed for good. */
  private async repairHead(messageId: string, conversationId: string): Promise<void> {
    const job = await this.queue.getJob(messageId);
    if (!job) await this.wake(messageId, conversationId);
    else await this.settleIfFailedForGood(job);
  }

  private warn(error: Error): void {
    this.logger.warn({ reason: error.message }, 'could not settle an inbound message');
  }
}
