import { SeededRandom } from './random';

export interface OperationFaults {
  /** Share of calls refused with ThrottlingException (429) before they take effect. */
  throttleRate?: number;
  /** Share of calls refused with the service's 5xx before they take effect. */
  serverErrorRate?: number;
  /** Share of calls that take effect and are then answered with a 5xx anyway. */
  serverErrorAfterRate?: number;
  /** Added latency for every call. */
  latencyMs?: number;
}

export interface FaultPlan {
  seed: number;
  /** By operation name (`SendMessage`, …); `*` applies to every operation without its own entry. */
  operations: Record<string, OperationFaults>;
  sns: { dropRate: number; duplicateRate: number };
}

export const NO_FAULTS: FaultPlan = {
  seed: 1,
  operations: {},
  sns: { dropRate: 0, duplicateRate: 0 },
};

export type FaultDecision = 'none' | 'throttle' | 'error-before' | 'error-after';

/** Seeded and reproducible: each operation draws from its own stream of the seed. */
export class FaultInjector {
  private plan: FaultPlan = NO_FAULTS;
  private random = new SeededRandom(NO_FAULTS.seed);
  private readonly streams = new Map<string, SeededRandom>();
  private readonly listeners: (() => void)[] = [];

  configure(plan: FaultPlan): void {
    this.plan = plan;
    this.random = new SeededRandom(plan.seed);
    this.streams.clear();
    for (const listener of this.listeners) listener();
  }

  onConfigure(listener: () => void): void {
    this.listeners.push(listener);
  }

  current(): FaultPlan {
    return this.plan;
  }

  /** The random source for SNS delivery faults (re-created by `configure`). */
  snsRandom(): SeededRandom {
    return this.stream('sns');
  }

  latencyMs(operation: string): number {
    return this.faultsOf(operation).latencyMs ?? 0;
  }

  decide(operation: string): FaultDecision {
    const faults = this.faultsOf(operation);
    const random = this.stream(operation);
    if (random.chance(faults.throttleRate ?? 0)) return 'throttle';
    if (random.chance(faults.serverErrorRate ?? 0)) return 'error-before';
    if (random.chance(faults.serverErrorAfterRate ?? 0)) return 'error-after';
    return 'none';
  }

  private faultsOf(operation: string): OperationFaults {
    return this.plan.operations[operation] ?? this.plan.operations['*'] ?? {};
  }

  private stream(label: string): SeededRandom {
    let stream = this.streams.get(label);
    if (!stream) {
      stream = this.random.fork(label);
      this.streams.set(label, stream);
    }
    return stream;
  }
}
