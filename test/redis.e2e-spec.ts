import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
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

  it('rejects an enqueue at once while Redis is down, and enqueues again once it is back', async () => {
    await redis.stop();
    await expect(inbound.add('message', { text: 'lost?' })).rejects.toThrow();
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
});
