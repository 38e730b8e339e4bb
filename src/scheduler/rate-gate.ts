import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Lets calls through at most `perSecond` a second, evenly spaced across concurrent callers:
 * a steady rate with no burst, so it stays within a per-second quota whatever its burst
 * allowance (CreateParticipantConnection: about 2 a second, bursts of 5).
 */
export class RateGate {
  private readonly spacingMs: number;
  private nextAt = 0;

  constructor(perSecond: number) {
    if (!(perSecond > 0)) throw new Error('perSecond must be positive');
    this.spacingMs = 1_000 / perSecond;
  }

  /** Resolves true when the caller's turn comes; false when `signal` aborts first. */
  async pass(signal: AbortSignal): Promise<boolean> {
    const now = Date.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.spacingMs;
    if (at > now) {
      try {
        await sleep(at - now, undefined, { signal });
      } catch {
        return false;
      }
    }
    return !signal.aborted;
  }
}
