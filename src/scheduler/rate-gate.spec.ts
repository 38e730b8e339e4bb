import { type GateClock, RateGate } from './rate-gate';

/** A clock that stands still: each caller's wait is recorded, none takes real time. */
function virtualClock(start = 1_000) {
  const waits: number[] = [];
  const clock: GateClock = {
    now: () => start,
    sleep: (ms, signal) => {
      waits.push(ms);
      return signal.aborted ? Promise.reject(new Error('aborted')) : Promise.resolve();
    },
  };
  return { clock, waits };
}

describe('RateGate', () => {
  it('spaces concurrent callers evenly, with no burst', async () => {
    const { clock, waits } = virtualClock();
    const gate = new RateGate(50, clock);
    const signal = new AbortController().signal;
    const passed = await Promise.all(Array.from({ length: 6 }, () => gate.pass(signal)));
    expect(passed).toEqual(Array(6).fill(true));
    // The first goes at once; the others wait their turn, 20 ms apart.
    expect(waits).toEqual([20, 40, 60, 80, 100]);
  });

  it('lets a caller through at once when the last turn is long past', async () => {
    let now = 1_000;
    const waits: number[] = [];
    const gate = new RateGate(2, {
      now: () => now,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    const signal = new AbortController().signal;
    await gate.pass(signal);
    now += 5_000;
    await gate.pass(signal);
    expect(waits).toEqual([]);
  });

  it('answers false to a caller whose signal aborts while it waits', async () => {
    const gate = new RateGate(1);
    const controller = new AbortController();
    expect(await gate.pass(controller.signal)).toBe(true);
    const waiting = gate.pass(controller.signal);
    controller.abort();
    expect(await waiting).toBe(false);
  });
});
