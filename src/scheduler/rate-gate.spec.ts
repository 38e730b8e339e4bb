import { RateGate } from './rate-gate';

describe('RateGate', () => {
  it('spaces concurrent callers evenly, with no burst', async () => {
    const gate = new RateGate(50);
    const signal = new AbortController().signal;
    const started = Date.now();
    const passedAt = await Promise.all(
      Array.from({ length: 6 }, () => gate.pass(signal).then(() => Date.now() - started)),
    );
    const gaps = passedAt.slice(1).map((at, i) => at - passedAt[i]);
    expect(passedAt[0]).toBeLessThan(10);
    // 20 ms apart, give or take the timer's granularity.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(18);
    expect(passedAt[5]).toBeGreaterThanOrEqual(95);
  });

  it('answers false to a caller whose signal aborts while it waits', async () => {
    const gate = new RateGate(1);
    const controller = new AbortController();
    expect(await gate.pass(controller.signal)).toBe(true);
    const waiting = gate.pass(controller.signal);
    setTimeout(() => controller.abort(), 10);
    const started = Date.now();
    expect(await waiting).toBe(false);
    expect(Date.now() - started).toBeLessThan(500);
  });
});
