import { Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { AppConfig } from '../config';
import { ConversationService, ConversationStore } from '../conversations';
import { Metrics } from '../ops/metrics';
import { walkDueEntries } from './due-entries';
import { RateGate } from './rate-gate';
import type { Sweep, SweepCounts } from './sweep';

const PAGE_SIZE = 100;
const CONCURRENCY = 4;

type RefreshOutcome = 'refreshed' | 'ended' | 'stale';

/**
 * Renews connection credentials before they expire, so that a customer's message after a
 * quiet day goes straight to Connect: every conversation whose ConnectionToken expires within
 * CREDENTIAL_REFRESH_AHEAD_SECONDS gets a new one from its ParticipantToken
 * (CreateParticipantConnection, at most SCHEDULER_CONNECT_CALLS_PER_SECOND). A participant
 * Connect refuses is over: its conversation is ended and traced.
 */
@Injectable()
export class CredentialRefresher implements Sweep {
  readonly name = 'credential-refresh';
  readonly intervalMs: number;
  private readonly logger = new Logger(CredentialRefresher.name);
  private readonly aheadMs: number;
  private readonly gate: RateGate;
  private readonly refreshes: Counter<'outcome'>;

  constructor(
    config: AppConfig,
    private readonly store: ConversationStore,
    private readonly conversations: ConversationService,
    metrics: Metrics,
  ) {
    this.intervalMs = config.scheduler.credentialRefreshIntervalMs;
    this.aheadMs = config.scheduler.credentialRefreshAheadMs;
    this.gate = new RateGate(config.scheduler.connectCallsPerSecond);
    this.refreshes = metrics.counter(
      'csb_credential_refreshes_total',
      'Connection credentials the scheduler renewed ahead of expiry, by outcome (ended: Connect refused the participant)',
      ['outcome'],
    );
  }

  async run(signal: AbortSignal): Promise<SweepCounts> {
    const counts: Record<RefreshOutcome, number> = { refreshed: 0, ended: 0, stale: 0 };
    const horizon = Date.now() + this.aheadMs;
    const failures = await walkDueEntries({
      page: (after) => this.store.credentialsExpiringBefore(horizon, PAGE_SIZE, { after }),
      score: (entry) => entry.connectionExpiresAt,
      concurrency: CONCURRENCY,
      signal,
      handle: async ({ conversationId }) => {
        if (!(await this.gate.pass(signal))) return;
        const outcome = await this.refresh(conversationId, horizon);
        counts[outcome] += 1;
        if (outcome !== 'stale') this.refreshes.inc({ outcome });
      },
    });
    if (failures.count > 0) {
      this.refreshes.inc({ outcome: 'failed' }, failures.count);
      this.logger.warn(
        { failed: failures.count, reason: failures.firstReason },
        'connection credentials not refreshed',
      );
    }
    return { ...counts, failed: failures.count };
  }

  private async refresh(conversationId: string, horizon: number): Promise<RefreshOutcome> {
    const outcome = await this.conversations.renewCredentials(conversationId);
    if (outcome !== 'not-active') return outcome;
    await this.store.dropStaleIndexEntry('credential-expiry', conversationId, horizon);
    return 'stale';
  }
}
