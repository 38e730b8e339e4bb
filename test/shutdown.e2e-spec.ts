import { getQueueToken } from '@nestjs/bullmq';
import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { RedisConnections, RedisKeys } from '../src/redis';
import { shutDown } from '../src/shutdown';
import { sharedRedisUrl } from './support/env';
import { type InProcessBridge, startInProcess } from './support/in-process';

/** A worker as the relay builds them: its own connection, closed before Redis is. */
@Injectable()
class HeldJobWorker implements BeforeApplicationShutdown {
  readonly started: Promise<void>;
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  private markStarted!: () => void;
  readonly worker: Worker;

  constructor(connections: RedisConnections, keys: RedisKeys) {
    this.started = new Promise((resolve) => (this.markStarted = resolve));
    this.worker = new Worker(
      'inbound',
      async () => {
        this.markStarted();
        await this.released;
        return 'done';
      },
      { connection: connections.forWorker('inbound'), prefix: keys.prefix },
    );
  }

  finish(): void {
    this.release();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }
}

describe('graceful shutdown', () => {
  let bridge: InProcessBridge;
  let inspector: Queue;

  beforeEach(async () => {
    const prefix = `shutdown${Math.random().toString(36).slice(2, 8)}`;
    bridge = await startInProcess({
      env: { REDIS_KEY_PREFIX: prefix },
      providers: [HeldJobWorker],
    });
    inspector = new Queue('inbound', {
      connection: { url: sharedRedisUrl() },
      prefix: `{${prefix}}`,
    });
  });

  afterEach(async () => {
    await inspector.close();
  });

  it('lets the job in flight finish, then closes and resolves exit code 0', async () => {
    const queue = bridge.app.get<Queue>(getQueueToken('inbound'));
    const holder = bridge.app.get(HeldJobWorker);
    const job = await queue.add('message', { n: 1 });
    await holder.started;

    const closing = shutDown(bridge.app, 10_000, bridge.logger);
    // The job is still running while the application closes around it.
    expect(await inspector.getJobState(job.id!)).toBe('active');
    holder.finish();
    expect(await closing).toBe(0);
    expect(await inspector.getJobState(job.id!)).toBe('completed');
  });

  it('gives up after the timeout and resolves exit code 1', async () => {
    const queue = bridge.app.get<Queue>(getQueueToken('inbound'));
    const holder = bridge.app.get(HeldJobWorker);
    await queue.add('message', { n: 2 });
    await holder.started;

    expect(await shutDown(bridge.app, 300, bridge.logger)).toBe(1);
    holder.finish();
    await bridge.app.close();
  });
});
