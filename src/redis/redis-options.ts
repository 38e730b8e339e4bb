import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { AppConfig } from '../config';

export type RedisClient = Redis | Cluster;

/**
 * `request`: the webhook path and the bridge's own reads and writes. No offline queue and one
 * retry, so a command fails at once while Redis is away and the caller can answer 503; the
 * commands of one event-loop turn go out together (auto-pipelining).
 * `producer`: BullMQ queues, failing fast like `request`. Apart from it because ioredis copies
 * every command defined on a connection (BullMQ defines its ~50 scripts) into each MULTI and
 * pipeline made there, auto-pipelined batches included.
 * `worker`: for BullMQ workers, which block and must wait out an outage (maxRetriesPerRequest null).
 */
export type RedisRole = 'request' | 'producer' | 'worker';

function roleOptions(role: RedisRole, commandTimeoutMs: number): RedisOptions {
  if (role === 'worker') return { enableOfflineQueue: true, maxRetriesPerRequest: null };
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    enableAutoPipelining: role === 'request',
  };
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
      // Cluster nodes have no numbered databases; the queue and pipelining are the cluster's.
      const { enableOfflineQueue, enableAutoPipelining, db, ...nodeOptions } = common;
      return {
        kind: 'cluster',
        nodes: topology.nodes,
        options: { enableOfflineQueue, enableAutoPipelining, redisOptions: nodeOptions },
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
