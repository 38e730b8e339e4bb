import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './ports';

// The same path from src/sandbox (tests) and dist/sandbox (the built sandbox).
const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The built bridge (`dist/main.js`) as a child process, with its log lines collected. */
export class BridgeProcess {
  readonly logs: LogLine[] = [];
  /** Output lines that were not JSON (there should be none). */
  readonly rawOutput: string[] = [];
  readonly exited: Promise<Exit>;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    onLine?: (line: string) => void,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.notify();
        resolve({ code, signal });
      }),
    );
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        onLine?.(line);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.rawOutput.push(line);
        }
        this.notify();
      });
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process; does not wait for it to listen (see `listening`). */
  static async spawn(
    env: NodeJS.ProcessEnv,
    onLine?: (line: string) => void,
  ): Promise<BridgeProcess> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
    const port = env.PORT ? Number(env.PORT) : await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: { ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new BridgeProcess(child, port, onLine);
  }

  /** Starts the process and resolves once it is ready (Redis reachable, queues usable). */
  static async start(
    env: NodeJS.ProcessEnv,
    onLine?: (line: string) => void,
  ): Promise<BridgeProcess> {
    const bridge = await BridgeProcess.spawn(env, onLine);
    await bridge.answers('/health/ready');
    return bridge;
  }

  /** Resolves once `path` answers 2xx; rejects if the process exits first or time runs out. */
  async answers(path: string, withinMs = 30_000): Promise<void> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      if (!this.running)
        throw new Error(`bridge exited before ${path} answered:\n${this.output()}`);
      if (Date.now() > deadline)
        throw new Error(`${path} did not answer 2xx within ${withinMs} ms`);
      const ok = await fetch(`${this.url}${path}`).then(
        (res) => res.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Resolves with the first log line matching `predicate`; rejects if the process exits first. */
  async waitForLog(predicate: (line: LogLine) => boolean): Promise<LogLine> {
    for (;;) {
      const found = this.logs.find(predicate);
      if (found) return found;
      if (!this.running) {
        throw new Error(`bridge exited before the expected log line:\n${this.output()}`);
      }
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  output(): string {
    return [...this.logs.map((line) => JSON.stringify(line)), ...this.rawOutput].join('\n');
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }
}
