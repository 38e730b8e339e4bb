/**
 * A small seeded generator (mulberry32). `fork(label)` derives an independent stream, so that
 * each operation's fault sequence depends only on the seed and its own calls, not on how
 * calls of different operations interleave.
 */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** True with probability `rate` (0 never draws, so rate 0 consumes nothing). */
  chance(rate: number): boolean {
    return rate > 0 && this.next() < rate;
  }

  fork(label: string): SeededRandom {
    let hash = 0x811c9dc5;
    for (const char of label) {
      hash ^= char.charCodeAt(0);
      hash = Math.imul(hash, 0x01000193);
    }
    return new SeededRandom((this.seed ^ hash) >>> 0);
  }
}
