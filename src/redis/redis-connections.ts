import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config';
import { createRedisClient, type RedisClient, type RedisRole } from './redis-options';

const QUIT_TIMEOUT_MS = 2_000;

/**
 * Owns every Redis connection of the process. `client` serves the request path and
 * `producer` the BullMQ queues; both fail fast while Redis is away. `forWorker()` hands out a
 * connection for a BullMQ worker. All are closed at application shutdown, after the workers
 * (which close in `beforeApplicationShutdown`).
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnections.name);
  private readonly clients = new Set<RedisClient>();
  private closing = false;
  readonly client: RedisClient;
  readonly producer: RedisClient;

  constructor(private readonly config: AppConfig) {
    this.client = this.open('request', 'csb:request');
    this.producer = this.open('producer', 'csb:producer');
  }

  forWorker(name: string): RedisClient {
    return this.open('worker', `csb:worker:${name}`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.clients].map((client) => quit(client)));
    this.clients.clear();
  }

  private open(role: RedisRole, connectionName: string): RedisClient {
    const client = createRedisClient(this.config.redis, role, connectionName);
    this.clients.add(client);
    let lost = false;
    let lastError: string | undefined;
    client.on('error', (error: Error) => {
      lastError = error.message;
    });
    client.on('close', () => {
      if (lost || this.closing) return;
      lost = true;
      this.logger.warn({ connection: connectionName, reason: lastError }, 'redis connection lost');
    });
    client.on('ready', () => {
      if (lost) this.logger.log({ connection: connectionName }, 'redis connection restored');
      lost = false;
      lastError = undefined;
    });
    return client;
  }
}

async function quit(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  const timer = new Promise<'timeout'>((resolve) =>
    setTimeout(() => resolve('timeout'), QUIT_TIMEOUT_MS).unref(),
  );
  const outcome = await Promise.race([client.quit().catch(() => 'failed' as const), timer]);
  if (outcome !== 'OK') client.disconnect();
}
