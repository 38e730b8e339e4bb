import { BridgeProcess } from '../src/sandbox/bridge-process';
import { eventually } from '../src/sandbox/eventually';
import { bridgeEnv } from './support/env';
import { RedisServer } from '../src/sandbox/redis-server';

describe('health probes follow Redis', () => {
  let redis: RedisServer;
  let bridge: BridgeProcess;

  beforeAll(async () => {
    redis = await RedisServer.start();
    bridge = await BridgeProcess.start(bridgeEnv({ REDIS_URL: redis.url }));
  });

  afterAll(async () => {
    await bridge?.stop();
    await redis?.destroy();
  });

  const status = async (path: string) => (await fetch(`${bridge.url}${path}`)).status;

  it('is live and ready, unready while Redis is down, ready again after, and never crashes', async () => {
    expect(await status('/health/live')).toBe(200);
    // Listening comes before the first Redis connection is up; readiness waits for it.
    await eventually(
      'ready answers 200',
      async () => (await status('/health/ready')) === 200,
      5_000,
    );
    const ready = await fetch(`${bridge.url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { info: Record<string, { status: string }> };
    expect(body.info.redis.status).toBe('up');
    expect(body.info['redis:producer'].status).toBe('up');
    expect(body.info['queue:inbound'].status).toBe('up');
    expect(body.info['queue:outbound'].status).toBe('up');

    await redis.stop();
    await eventually(
      'ready answers 503',
      async () => (await status('/health/ready')) === 503,
      5_000,
    );
    const down = (await (await fetch(`${bridge.url}/health/ready`)).json()) as {
      error: Record<string, { status: string }>;
    };
    expect(down.error.redis.status).toBe('down');
    expect(down.error['redis:producer'].status).toBe('down');
    expect(await status('/health/live')).toBe(200);

    await redis.restart();
    await eventually(
      'ready answers 200',
      async () => (await status('/health/ready')) === 200,
      15_000,
    );
    expect(bridge.running).toBe(true);
    expect(bridge.rawOutput).toEqual([]);
    expect(bridge.logs.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['redis connection lost', 'redis connection restored']),
    );
  });
});
