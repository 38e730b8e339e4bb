/** What a run did, by kind, for its log line: `{ refreshed: 12, failed: 1 }`. */
export type SweepCounts = Record<string, number>;

/** Periodic work that one replica at a time runs (see SweepScheduler). */
export interface Sweep {
  /** Names the sweep's lease, metrics label and log lines. */
  readonly name: string;
  /** Time between runs; 0 turns the sweep off. */
  readonly intervalMs: number;
  /**
   * One run. It starts no new work once `signal` aborts: its time budget is spent, this
   * replica stopped leading the sweep, or the process is shutting down.
   */
  run(signal: AbortSignal): Promise<SweepCounts>;
}

/** The sweeps the scheduler runs (a provider token). */
export const SWEEPS = Symbol('SWEEPS');
