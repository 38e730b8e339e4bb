import { BridgeProcess } from '../../../src/sandbox/bridge-process';
import { freePort } from '../../../src/sandbox/ports';
import type { LoadBalancer } from './load-balancer';

/** A bridge process at a fixed port: the same slot is restarted at the same address. */
interface Slot {
  port: number;
  process?: BridgeProcess;
}

/**
 * N bridge processes behind a load balancer. A killed process leaves the rotation at once (as an
 * endpoint controller would take a dead pod out) and joins it again once it answers ready.
 */
export class BridgeFleet {
  /** When each SIGKILL happened (epoch ms), oldest first. */
  readonly kills: number[] = [];
  /** Every process ever started, the killed ones included, for their logs. */
  readonly processes: BridgeProcess[] = [];
  private readonly slots: Slot[];

  private constructor(
    ports: number[],
    private readonly env: (port: number) => NodeJS.ProcessEnv,
    private readonly balancer: LoadBalancer,
  ) {
    this.slots = ports.map((port) => ({ port }));
  }

  static async start(
    size: number,
    env: (port: number) => NodeJS.ProcessEnv,
    balancer: LoadBalancer,
  ): Promise<BridgeFleet> {
    const ports: number[] = [];
    for (let i = 0; i < size; i++) ports.push(await freePort());
    const fleet = new BridgeFleet(ports, env, balancer);
    await Promise.all(fleet.slots.map((slot) => fleet.launch(slot)));
    return fleet;
  }

  get size(): number {
    return this.slots.length;
  }

  /** SIGKILLs the process in slot `index`, waits `downMs`, starts it again and waits until ready. */
  async killAndRestart(index: number, downMs: number): Promise<void> {
    const slot = this.slots[index];
    const victim = slot.process;
    if (!victim) return;
    slot.process = undefined;
    this.kills.push(Date.now());
    await victim.stop('SIGKILL');
    this.balancer.remove(slot.port);
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.launch(slot);
  }

  /** Processes that exited without being killed by the fleet (there should be none). */
  crashed(): BridgeProcess[] {
    const live = new Set(this.slots.map((slot) => slot.process));
    return this.processes.filter((process) => live.has(process) && !process.running);
  }

  /** Log lines of every process at level `error` or above. */
  errorLines(): Record<string, unknown>[] {
    return this.processes.flatMap((process) =>
      process.logs.filter((line) => line.level === 'error' || line.level === 'fatal'),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.slots.flatMap((slot) => (slot.process ? [slot.process.stop()] : [])));
  }

  private async launch(slot: Slot): Promise<void> {
    const process = await BridgeProcess.spawn(this.env(slot.port));
    this.processes.push(process);
    await process.answers('/health/ready', 60_000);
    slot.process = process;
    this.balancer.add(slot.port);
  }
}
