import type { Logger } from '@nestjs/common';
import type { LeaseLock } from '../redis';

/**
 * Which replica runs one sweep: the holder of the sweep's lease. The leader renews the lease
 * every third of a lease, between runs too, so leadership stays with a live leader and moves
 * only once a lease runs out unrenewed (the leader died, or lost Redis for a whole lease).
 * `signal` aborts when this replica stops leading, so a run in progress stops starting work.
 */
export class SweepLeadership {
  private holder?: string;
  private renewedAt = 0;
  private renewal?: NodeJS.Timeout;
  private lost = new AbortController();

  constructor(
    private readonly sweep: string,
    private readonly lock: LeaseLock,
    private readonly logger: Logger,
  ) {}

  /** Aborts when this replica stops leading the sweep. */
  get signal(): AbortSignal {
    return this.lost.signal;
  }

  /**
   * Whether this replica leads the sweep now: it renewed its lease or took the free one.
   * Checked against Redis on every call, so a replica that was stalled past its lease learns
   * that another took over before it runs the sweep again.
   */
  async claim(): Promise<boolean> {
    if (this.holder) await this.renew();
    if (this.holder) return true;
    const holder = await this.lock.acquire();
    if (!holder) return false;
    this.holder = holder;
    this.renewedAt = Date.now();
    this.lost = new AbortController();
    this.renewal = setInterval(() => void this.renew(), this.lock.leaseMs / 3);
    this.renewal.unref();
    this.logger.log({ sweep: this.sweep, holder }, 'leading scheduled sweep');
    return true;
  }

  /** Stops leading and frees the lease, so another replica takes over at once. */
  async resign(): Promise<void> {
    const holder = this.holder;
    if (!holder) return;
    this.stepDown();
    try {
      await this.lock.release(holder);
    } catch (error) {
      this.logger.warn(
        { sweep: this.sweep, reason: reasonOf(error) },
        'sweep lease not released; it will run out',
      );
    }
  }

  private async renew(): Promise<void> {
    const holder = this.holder;
    if (!holder) return;
    let lostBecause: string | undefined;
    try {
      if (await this.lock.renew(holder)) this.renewedAt = Date.now();
      else lostBecause = 'another replica holds the lease';
    } catch (error) {
      // Unreachable Redis: the lease is still ours until it runs out, and may be another's after.
      if (Date.now() - this.renewedAt >= this.lock.leaseMs) {
        lostBecause = `the lease ran out unrenewed: ${reasonOf(error)}`;
      }
    }
    if (lostBecause === undefined || this.holder !== holder) return;
    this.stepDown();
    this.logger.warn(
      { sweep: this.sweep, reason: lostBecause },
      'no longer leading scheduled sweep',
    );
  }

  private stepDown(): void {
    clearInterval(this.renewal);
    this.renewal = undefined;
    this.holder = undefined;
    this.lost.abort();
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
