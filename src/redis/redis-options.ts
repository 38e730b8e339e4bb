import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { AppConfig } from '../config';

export type RedisClient = Redis | Cluster;

/**
 * `request`: used on the webhook path and by queue producers. No offline queue and one retry,
 * so a command fails at once while Redis is away and the caller can answer 503.
 * `worker`: for BullMQ workers, which block and must wait out an outage (maxRetriesPerRequest null).
 */
export type RedisRole = 'request' | 'worker';

function roleOptions(role: RedisRole, commandTimeoutMs: number): RedisOptions {
  return role === 'request'
    ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: commandTimeoutMs }
    : { enableOfflineQueue: true, maxRetriesPerRequest: null };
}

/** Credentials, database and TLS from REDIS_URL, applied to every topology. */
function urlOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db ? Number(db) : undefined,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

export function redisClientOptions(
  redis: AppConfig['redis'],
  role: RedisRole,
  connectionName: string,
):
  | { kind: 'standalone' | 'sentinel'; options: RedisOptions }
  | {
      kind: 'cluster';
      nodes: { host: string; port: number }[];
      options: ClusterOptions;
    } {
  const common: RedisOptions = {
    ...urlOptions(redis.url),
    ...roleOptions(role, redis.commandTimeoutMs),
    connectionName,
    connectTimeout: 5_000,
  };
  const topology = redis.topology;
  switch (topology.kind) {
    case 'standalone': {
      const { hostname, port } = new URL(redis.url);
      return {
        kind: 'standalone',
        options: { ...common, host: hostname, port: port ? Number(port) : 6379 },
      };
    }
    case 'sentinel':
      return {
        kind: 'sentinel',
        options: {
          ...common,
          sentinels: topology.sentinels,
          name: topology.name,
          sentinelPassword: topology.sentinelPassword,
        },
      };
    case 'cluster': {
      // Cluster nodes have no numbered databases.
      const { enableOfflineQueue, db, ...nodeOptions } = common;
      return {
        kind: 'cluster',
        nodes: topology.nodes,
        options: { enableOfflineQueue, redisOptions: nodeOptions },
      };
    }
  }
}

export function createRedisClient(
  redis: AppConfig['redis'],
  role: RedisRole,
  connectionName: string,
): RedisClient {
  const built = redisClientOptions(redis, role, connectionName);
  return built.kind === 'cluster'
    ? new Cluster(built.nodes, built.options)
    : new Redis(built.options);
}
