import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Counter, Histogram } from 'prom-client';
import { AppConfig } from '../config';
import { Metrics } from '../ops/metrics';
import { LeaseLock, RedisConnections, RedisKeys } from '../redis';
import { SWEEPS, type Sweep, type SweepCounts } from './sweep';
import { SweepLeadership } from './sweep-leadership';

/** A run may use this share of its interval; the rest of the period belongs to the relay. */
const RUN_BUDGET_SHARE = 0.8;

type RunOutcome = 'completed' | 'partial' | 'failed' | 'skipped';

/**
 * Runs each sweep on its interval (registered with @nestjs/schedule's SchedulerRegistry) on
 * the one replica that leads it, never two runs of a sweep at once. Each run gets a time
 * budget, is logged in one line (sweep, outcome, counts, duration) and measured; nothing it
 * throws leaves the timer. At shutdown the timers stop, runs in progress are told to stop and
 * awaited, and the leases are freed so another replica takes over at once.
 */
@Injectable()
export class SweepScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SweepScheduler.name);
  private readonly sweeps: Sweep[];
  private readonly leaderships = new Map<string, SweepLeadership>();
  private readonly inProgress = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly runs: Counter<'sweep' | 'outcome'>;
  private readonly runSeconds: Histogram<'sweep'>;

  constructor(
    config: AppConfig,
    connections: RedisConnections,
    keys: RedisKeys,
    metrics: Metrics,
    private readonly registry: SchedulerRegistry,
    @Inject(SWEEPS) sweeps: Sweep[],
  ) {
    this.sweeps = sweeps.filter((sweep) => sweep.intervalMs > 0);
    for (const sweep of this.sweeps) {
      const lock = new LeaseLock(
        connections.client,
        keys.key('scheduler', sweep.name, 'leader'),
        config.scheduler.leaseMs,
      );
      this.leaderships.set(sweep.name, new SweepLeadership(sweep.name, lock, this.logger));
    }
    this.runs = metrics.counter(
      'csb_scheduler_runs_total',
      'Scheduled sweep runs by outcome (skipped: another replica leads the sweep; partial: stopped by its time budget, a lost lease or shutdown)',
      ['sweep', 'outcome'],
    );
    this.runSeconds = metrics.histogram(
      'csb_scheduler_run_seconds',
      'Duration of scheduled sweep runs on the leading replica',
      ['sweep'],
      [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 300],
    );
  }

  onApplicationBootstrap(): void {
    for (const sweep of this.sweeps) {
      this.registry.addInterval(
        timerName(sweep),
        setInterval(() => void this.tick(sweep), sweep.intervalMs),
      );
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const sweep of this.sweeps) {
      if (this.registry.doesExist('interval', timerName(sweep))) {
        this.registry.deleteInterval(timerName(sweep));
      }
    }
    this.stopping.abort();
    await Promise.all(this.inProgress.values());
    await Promise.all([...this.leaderships.values()].map((leadership) => leadership.resign()));
  }

  /** One timer tick: runs the sweep unless a run of it is in progress. Never rejects. */
  async tick(sweep: Sweep): Promise<void> {
    if (this.inProgress.has(sweep.name) || this.stopping.signal.aborted) return;
    const run = this.runOnce(sweep).finally(() => this.inProgress.delete(sweep.name));
    this.inProgress.set(sweep.name, run);
    await run;
  }

  private async runOnce(sweep: Sweep): Promise<void> {
    const leadership = this.leaderships.get(sweep.name);
    if (!leadership) return;
    const started = performance.now();
    let outcome: RunOutcome;
    let counts: SweepCounts = {};
    let reason: string | undefined;
    try {
      if (!(await leadership.claim())) {
        this.runs.inc({ sweep: sweep.name, outcome: 'skipped' });
        this.logger.debug({ sweep: sweep.name }, 'scheduled sweep skipped: another replica leads');
        return;
      }
      const signal = AbortSignal.any([
        this.stopping.signal,
        leadership.signal,
        AbortSignal.timeout(sweep.intervalMs * RUN_BUDGET_SHARE),
      ]);
      counts = await sweep.run(signal);
      outcome = signal.aborted ? 'partial' : 'completed';
    } catch (error) {
      outcome = 'failed';
      reason = error instanceof Error ? error.message : String(error);
    }
    const seconds = (performance.now() - started) / 1_000;
    this.runSeconds.observe({ sweep: sweep.name }, seconds);
    this.runs.inc({ sweep: sweep.name, outcome });
    const line = { sweep: sweep.name, outcome, ...counts, durationMs: Math.round(seconds * 1_000) };
    if (reason === undefined) this.logger.log(line, 'scheduled sweep ran');
    else this.logger.warn({ ...line, reason }, 'scheduled sweep failed');
  }
}

function timerName(sweep: Sweep): string {
  return `sweep:${sweep.name}`;
}
