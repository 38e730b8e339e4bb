import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { RedisConnections } from '../src/redis';
import { eventually } from '../src/sandbox/eventually';
import { type InProcessBridge, startInProcess } from './support/in-process';
import { RedisServer } from '../src/sandbox/redis-server';

describe('queues on Redis', () => {
  let redis: RedisServer;
  let bridge: InProcessBridge;
  let inbound: Queue;

  beforeAll(async () => {
    redis = await RedisServer.start();
    bridge = await startInProcess({ env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'tenant-a' } });
    inbound = bridge.app.get<Queue>(getQueueToken('inbound'));
  });

  afterAll(async () => {
    await bridge?.app.close();
    await redis?.destroy();
  });

  it('writes queue keys under the hash-tagged prefix', async () => {
    await inbound.add('message', { text: 'hello' });
    await bridge.app.get<Queue>(getQueueToken('outbound')).add('message', { text: 'hi' });
    const reader = new Redis(redis.url);
    const keys = await reader.keys('*');
    await reader.quit();
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => !key.startsWith('{tenant-a}:'))).toEqual([]);
    expect(keys).toEqual(
      expect.arrayContaining(['{tenant-a}:inbound:meta', '{tenant-a}:outbound:meta']),
    );
  });

  it("caps the queues' event streams at about 1000 events", async () => {
    const reader = new Redis(redis.url);
    const maxLens = await Promise.all(
      ['inbound', 'outbound'].map((queue) =>
        reader.hget(`{tenant-a}:${queue}:meta`, 'opts.maxLenEvents'),
      ),
    );
    await reader.quit();
    expect(maxLens).toEqual(['1000', '1000']);
  });

  it('rejects an enqueue and a request-path command at once while Redis is down, and enqueues again once it is back', async () => {
    await redis.stop();
    await expect(inbound.add('message', { text: 'lost?' })).rejects.toThrow();
    await expect(bridge.app.get(RedisConnections).client.get('any')).rejects.toThrow();
    await redis.restart();
    let enqueued: string | undefined;
    await eventually(
      'the request connection is back',
      async () => {
        enqueued = await inbound.add('message', { text: 'after' }).then(
          (job) => job.id,
          () => undefined,
        );
        return enqueued !== undefined;
      },
      15_000,
    );
    expect(enqueued).toEqual(expect.any(String));
  });

  it("is not ready once the queues' connection is lost, though the request connection answers", async () => {
    await eventually(
      'ready answers 200',
      async () => (await fetch(`${bridge.url}/health/ready`)).status === 200,
      15_000,
    );
    bridge.app.get(RedisConnections).producer.disconnect();
    const ready = await fetch(`${bridge.url}/health/ready`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { details: Record<string, { status: string }> };
    expect(body.details.redis.status).toBe('up');
    expect(body.details['redis:producer'].status).toBe('down');
  });
});
