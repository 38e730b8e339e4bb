import { AppConfig } from '../config';
import { RedisKeys } from './redis-keys';
import { redisClientOptions } from './redis-options';

const base = {
  AWS_REGION: 'us-east-1',
  CONNECT_INSTANCE_ID: 'i',
  CONNECT_CONTACT_FLOW_ID: 'f',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
};
const redisConfig = (env: Record<string, string> = {}) =>
  AppConfig.fromEnv({ ...base, ...env }).redis;

describe('redisClientOptions', () => {
  it('fails fast on the request path and for producers, auto-pipelines requests only, waits on workers', () => {
    const config = redisConfig({ REDIS_COMMAND_TIMEOUT_MS: '1500' });
    const failFast = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1500 };
    expect(redisClientOptions(config, 'request', 'r').options).toMatchObject({
      ...failFast,
      enableAutoPipelining: true,
      connectionName: 'r',
    });
    expect(redisClientOptions(config, 'producer', 'p').options).toMatchObject({
      ...failFast,
      enableAutoPipelining: false,
      connectionName: 'p',
    });
    const worker = redisClientOptions(config, 'worker', 'w');
    expect(worker.options).toMatchObject({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    expect(worker.options).not.toHaveProperty('commandTimeout');
    expect(worker.options).not.toHaveProperty('enableAutoPipelining');
  });

  it('takes host, credentials, database and TLS from REDIS_URL', () => {
    const built = redisClientOptions(
      redisConfig({ REDIS_URL: 'rediss://app%40user:p%3Ass@redis.internal:6380/2' }),
      'request',
      'r',
    );
    expect(built.kind).toBe('standalone');
    expect(built.options).toMatchObject({
      host: 'redis.internal',
      port: 6380,
      username: 'app@user',
      password: 'p:ss',
      db: 2,
      tls: {},
    });
  });

  it('connects through Sentinel with the URL credentials for the master', () => {
    const built = redisClientOptions(
      redisConfig({
        REDIS_URL: 'redis://:master-pw@ignored:6379',
        REDIS_SENTINELS: 's1:26379,s2:26379',
        REDIS_SENTINEL_NAME: 'mymaster',
        REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
      }),
      'worker',
      'w',
    );
    expect(built.kind).toBe('sentinel');
    expect(built.options).toMatchObject({
      name: 'mymaster',
      password: 'master-pw',
      sentinelPassword: 'sentinel-pw',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      maxRetriesPerRequest: null,
    });
  });

  it('connects to a Cluster with per-node options and no database number', () => {
    const built = redisClientOptions(
      redisConfig({ REDIS_URL: 'rediss://:pw@x:6379/3', REDIS_CLUSTER_NODES: 'n1:7000,n2:7001' }),
      'request',
      'r',
    );
    if (built.kind !== 'cluster') throw new Error(`expected a cluster, got ${built.kind}`);
    expect(built.nodes).toEqual([
      { host: 'n1', port: 7000 },
      { host: 'n2', port: 7001 },
    ]);
    expect(built.options).toMatchObject({ enableOfflineQueue: false, enableAutoPipelining: true });
    expect(built.options.redisOptions).toMatchObject({
      password: 'pw',
      tls: {},
      maxRetriesPerRequest: 1,
    });
    expect(built.options.redisOptions).not.toHaveProperty('db');
    expect(built.options.redisOptions).not.toHaveProperty('enableAutoPipelining');
  });
});

describe('RedisKeys', () => {
  it('puts the prefix in a hash tag', () => {
    const keys = new RedisKeys(AppConfig.fromEnv({ ...base, REDIS_KEY_PREFIX: 'tenant-a' }));
    expect(keys.prefix).toBe('{tenant-a}');
    expect(keys.key('conversation', 'abc')).toBe('{tenant-a}:conversation:abc');
  });
});
