import { setTimeout as sleep } from 'node:timers/promises';

/** Time as the gate sees it; tests give it a virtual one. */
export interface GateClock {
  now(): number;
  /** Rejects when `signal` aborts before `ms` have passed. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const realClock: GateClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

/**
 * Lets calls through at most `perSecond` a second, evenly spaced across concurrent callers:
 * a steady rate with no burst, so it stays within a per-second quota whatever its burst
 * allowance (CreateParticipantConnection: about 2 a second, bursts of 5).
 */
export class RateGate {
  private readonly spacingMs: number;
  private nextAt = 0;

  constructor(
    perSecond: number,
    private readonly clock: GateClock = realClock,
  ) {
    if (!(perSecond > 0)) throw new Error('perSecond must be positive');
    this.spacingMs = 1_000 / perSecond;
  }

  /** Resolves true when the caller's turn comes; false when `signal` aborts first. */
  async pass(signal: AbortSignal): Promise<boolean> {
    const now = this.clock.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.spacingMs;
    if (at > now) {
      try {
        await this.clock.sleep(at - now, signal);
      } catch {
        return false;
      }
    }
    return !signal.aborted;
  }
}
