import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { ConversationService, ConversationStore } from '../conversations';
import { OutboundIntake } from '../relay';
import { walkDueEntries } from './due-entries';
import { RateGate } from './rate-gate';
import type { Sweep, SweepCounts } from './sweep';

const PAGE_SIZE = 100;
const CONCURRENCY = 4;
const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 60_000;

type IdleOutcome = 'ended' | 'stale' | 'active';

/**
 * Ends conversations without a message either way for IDLE_TIMEOUT_MINUTES: the customer
 * participant disconnects (DisconnectParticipant, which ends the chat at Connect), the
 * contact is marked ended with the reason in the trace, and IDLE_ENDED_MESSAGE (when set) goes
 * to the customer through the outbound relay. Looks every quarter of the timeout,
 * between once a second and once a minute. Entries of conversations that are no longer
 * active leave the activity index on the way.
 */
@Injectable()
export class IdleConversationSweep implements Sweep {
  readonly name = 'idle-conversations';
  readonly intervalMs: number;
  private readonly logger = new Logger(IdleConversationSweep.name);
  private readonly timeoutMs: number;
  private readonly reason: string;
  private readonly notice?: string;
  private readonly gate: RateGate;

  constructor(
    config: AppConfig,
    private readonly store: ConversationStore,
    private readonly conversations: ConversationService,
    private readonly outbound: OutboundIntake,
  ) {
    this.notice = config.notices.idleEnded;
    this.timeoutMs = config.scheduler.idleTimeoutMs;
    this.intervalMs =
      this.timeoutMs === 0
        ? 0
        : Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, this.timeoutMs / 4));
    this.reason = `idle for ${this.timeoutMs / 60_000} minutes`;
    this.gate = new RateGate(config.scheduler.connectCallsPerSecond);
  }

  async run(signal: AbortSignal): Promise<SweepCounts> {
    const counts: Record<IdleOutcome, number> = { ended: 0, stale: 0, active: 0 };
    const cutoff = Date.now() - this.timeoutMs;
    const failures = await walkDueEntries({
      page: (after) => this.store.lastActiveBefore(cutoff, PAGE_SIZE, { after }),
      score: (entry) => entry.lastActivityAt,
      concurrency: CONCURRENCY,
      signal,
      handle: async ({ conversationId }) => {
        const outcome = await this.endIfIdle(conversationId, cutoff, signal);
        if (outcome) counts[outcome] += 1;
      },
    });
    if (failures.count > 0) {
      this.logger.warn(
        { failed: failures.count, reason: failures.firstReason },
        'idle conversations not ended',
      );
    }
    return { ...counts, failed: failures.count };
  }

  private async endIfIdle(
    conversationId: string,
    cutoff: number,
    signal: AbortSignal,
  ): Promise<IdleOutcome | undefined> {
    if (await this.store.dropStaleIndexEntry('activity', conversationId, cutoff)) return 'stale';
    // Still there, so active: a message may have come since the page was read.
    const lastActivityAt = await this.store.lastActivityAt(conversationId);
    if (lastActivityAt === undefined || lastActivityAt >= cutoff) return 'active';
    if (!(await this.gate.pass(signal))) return undefined;
    const outcome = await this.conversations.disconnectContact(conversationId, this.reason);
    if (outcome !== 'ended') return 'stale';
    if (this.notice) await this.tellCustomer(conversationId, lastActivityAt);
    return 'ended';
  }

  /** The item id is stable for this quiet spell, so a sweep run again sends the notice once. */
  private async tellCustomer(conversationId: string, lastActivityAt: number): Promise<void> {
    await this.outbound.accept(
      conversationId,
      {
        kind: 'message',
        itemId: `idle-ended-${conversationId}-${lastActivityAt}`,
        text: this.notice,
        contentType: 'text/plain',
        attachments: [],
      },
      new Date(Date.now()).toISOString(),
    );
  }
}
