import { RedisServer } from '../../src/sandbox/redis-server';

declare global {
  var sharedRedis: RedisServer | undefined;
}

/** One redis-server for the e2e suites that do not stop Redis; they use TEST_REDIS_URL. */
export default async function globalSetup(): Promise<void> {
  const redis = await RedisServer.start();
  globalThis.sharedRedis = redis;
  process.env.TEST_REDIS_URL = redis.url;
}
