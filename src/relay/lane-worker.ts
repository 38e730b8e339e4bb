import { type BeforeApplicationShutdown, Logger, type OnModuleInit } from '@nestjs/common';
import {
  DelayedError,
  type Job,
  type JobsOptions,
  type Queue,
  UnrecoverableError,
  Worker,
} from 'bullmq';
import { RedisConnections, RedisKeys } from '../redis';
import type { ConversationLanes, LaneMessage, MessageStatus } from './conversation-lanes';
import { HeldError, TurnTakenError } from './outbound-order';

/** A job of a lane queue: which message, of which conversation. */
export interface LaneJob {
  /** The message's id in the relay: its record key and the BullMQ job id. */
  messageId: string;
  conversationId: string;
}

/** How long a message out of turn sleeps before it looks again, if nobody wakes it earlier. */
const TURN_CHECK_MS = 5_000;
/**
 * How soon a woken job runs. Not at once: the run that just moved it to the delayed set may
 * still be finishing in this worker, and BullMQ tracks a job's lock by its id.
 */
const HANDOVER_MS = 25;
/**
 * How often a job may lose its worker (the process died holding it) before it fails. BullMQ's
 * default of 1 would fail a customer's message after two crashes that were not its fault; the
 * bound still stops a message that itself kills every process that takes it.
 */
const MAX_STALLS = 5;

export interface LaneWorkerOptions<T> {
  queue: Queue<LaneJob>;
  concurrency: number;
  /** A head is delivered no sooner than this long after its lane accepted it. */
  holdMs: (payload: T) => number;
  /** BullMQ's lockDuration, and how often stalled jobs are looked for. */
  lockMs: number;
  jobOptions: (messageId: string) => JobsOptions;
}

/**
 * Delivers the messages of one direction's lanes, one head at a time per conversation.
 * A message that is not at the head of its lane moves itself to the delayed set; the head,
 * once settled, wakes the next one, so waiting costs no polling in the common case. A head
 * that can no longer settle itself (its job failed without running, e.g. after stalling twice)
 * is settled as failed by the 'failed' event or by the message waiting behind it.
 */
export abstract class LaneWorker<T> implements OnModuleInit, BeforeApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  private worker?: Worker<LaneJob>;

  protected constructor(
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
    private readonly lanes: ConversationLanes<T>,
    private readonly options: LaneWorkerOptions<T>,
  ) {}

  /** Delivers the head of a lane; `recordPart(n)` notes that its first n parts went out. */
  abstract deliver(
    job: LaneJob,
    message: LaneMessage<T>,
    recordPart: (parts: number) => Promise<void>,
  ): Promise<void>;
  /** True when another attempt would be refused as well. */
  abstract isPermanent(error: unknown): boolean;
  abstract recordRetry(job: LaneJob, payload: T, attempt: number, reason: string): Promise<void>;
  abstract recordFailure(job: LaneJob, payload: T | undefined, reason: string): Promise<void>;

  onModuleInit(): void {
    const name = this.options.queue.name;
    this.worker = new Worker<LaneJob>(name, (job, token) => this.process(job, token ?? ''), {
      connection: this.connections.forWorker(name),
      prefix: this.keys.prefix,
      concurrency: this.options.concurrency,
      lockDuration: this.options.lockMs,
      stalledInterval: this.options.lockMs,
      maxStalledCount: MAX_STALLS,
    });
    this.worker.on('error', (error) =>
      this.logger.warn({ queue: name, reason: error.message }, 'worker error'),
    );
    this.worker.on('failed', (job) => {
      if (job) void this.settleIfFailedForGood(job).catch((error: Error) => this.warn(error));
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }

  private async process(job: Job<LaneJob>, token: string): Promise<string> {
    const { messageId, conversationId } = job.data;
    const { status, message, head } = await this.lanes.read(conversationId, messageId);
    if (status !== 'pending') {
      // Settled before (a duplicate job) or its record expired: it must not hold the lane.
      if (head === messageId) await this.settle(job.data, status ?? 'failed');
      return `already ${status ?? 'gone'}`;
    }
    // An empty lane with the message still pending means the lane was lost: deliver it anyway.
    if (head !== null && head !== messageId) await this.waitForTurn(job, token, head);
    if (!message) return 'already settled';
    const readyAt = message.acceptedAt + this.options.holdMs(message.payload);
    if (readyAt > Date.now() + HANDOVER_MS) {
      await job.moveToDelayed(readyAt, token);
      throw new DelayedError();
    }

    const attempt = job.attemptsMade + 1;
    try {
      await this.deliver(job.data, message, (parts) => this.lanes.recordProgress(messageId, parts));
    } catch (error) {
      if (error instanceof TurnTakenError) {
        await this.waitForTurn(job, token, (await this.lanes.head(conversationId)) ?? messageId);
      }
      if (error instanceof HeldError) {
        // Woken when the head before it settles; the periodic look covers a wake it missed.
        await job.moveToDelayed(Math.min(error.until, Date.now() + TURN_CHECK_MS), token);
        throw new DelayedError();
      }
      const reason = error instanceof Error ? error.message : String(error);
      const permanent = this.isPermanent(error);
      if (!permanent && attempt < (job.opts.attempts ?? 1)) {
        await this.recordRetry(job.data, message.payload, attempt, reason);
        throw error;
      }
      await this.settle(job.data, 'failed');
      await this.recordFailure(job.data, message.payload, reason).catch((traceError: Error) =>
        this.warn(traceError),
      );
      throw permanent ? new UnrecoverableError(reason) : error;
    }
    await this.settle(job.data, 'delivered');
    return 'delivered';
  }

  private async settle(job: LaneJob, status: Exclude<MessageStatus, 'pending'>): Promise<void> {
    const next = await this.lanes.settle(job.conversationId, job.messageId, status);
    if (next) await this.wake(next, job.conversationId);
  }

  /** A job that ended in the failed set while its message is still pending: settle it. */
  private async settleIfFailedForGood(job: Job<LaneJob>): Promise<void> {
    if ((await job.getState()) !== 'failed') return;
    const { status, message } = await this.lanes.read(job.data.conversationId, job.data.messageId);
    if (status !== 'pending') return;
    await this.settle(job.data, 'failed');
    await this.recordFailure(job.data, message?.payload, job.failedReason);
  }

  /** Wakes the next message's job; re-adds it when it was lost (stored, but never enqueued). */
  private async wake(messageId: string, conversationId: string): Promise<void> {
    const job = await this.options.queue.getJob(messageId);
    if (!job) {
      const options = this.options.jobOptions(messageId);
      await this.options.queue.add('message', { messageId, conversationId }, options);
      return;
    }
    if (await job.isDelayed()) await job.changeDelay(HANDOVER_MS).catch(() => undefined);
  }

  private async waitForTurn(job: Job<LaneJob>, token: string, head: string): Promise<never> {
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
    const job = await this.options.queue.getJob(messageId);
    if (!job) await this.wake(messageId, conversationId);
    else await this.settleIfFailedForGood(job);
  }

  private warn(error: Error): void {
    this.logger.warn({ reason: error.message }, 'could not settle a message');
  }
}
