import { FaultInjector } from './faults';

describe('FaultInjector', () => {
  const plan = (seed: number) => ({
    seed,
    operations: {
      SendMessage: { throttleRate: 0.25, serverErrorRate: 0.25, latencyMs: 40 },
      '*': { serverErrorAfterRate: 0.5 },
    },
    sns: { dropRate: 0, duplicateRate: 0 },
  });
  const draw = (injector: FaultInjector, operation: string, count: number) =>
    Array.from({ length: count }, () => injector.decide(operation));

  it('draws each operation from its own stream, so interleaving does not change a sequence', () => {
    const alone = new FaultInjector();
    alone.configure(plan(9));
    const expected = draw(alone, 'SendMessage', 50);

    const interleaved = new FaultInjector();
    interleaved.configure(plan(9));
    const actual = Array.from({ length: 50 }, () => {
      interleaved.decide('SendEvent');
      return interleaved.decide('SendMessage');
    });
    expect(actual).toEqual(expected);
    expect(new Set(expected)).toEqual(new Set(['none', 'throttle', 'error-before']));
  });

  it("falls back to '*' for operations without their own entry, and reports latency", () => {
    const injector = new FaultInjector();
    injector.configure(plan(3));
    expect(new Set(draw(injector, 'StartChatContact', 40))).toEqual(
      new Set(['none', 'error-after']),
    );
    expect(injector.latencyMs('SendMessage')).toBe(40);
    expect(injector.latencyMs('SendEvent')).toBe(0);
  });

  it('injects nothing by default', () => {
    expect(new Set(draw(new FaultInjector(), 'SendMessage', 20))).toEqual(new Set(['none']));
  });
});
