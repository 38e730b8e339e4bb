import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { Queue } from 'bullmq';
import { type RedisClient, RedisConnections } from '../redis';

const CHECK_TIMEOUT_MS = 1_000;

@Controller('health')
export class HealthController {
  private readonly queues: Queue[];

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisConnections,
    @InjectQueue('inbound') inbound: Queue,
    @InjectQueue('outbound') outbound: Queue,
  ) {
    this.queues = [inbound, outbound];
  }

  /** The process answers; never touches Redis, so a Redis outage does not restart pods. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Both fail-fast Redis connections answer and every queue reads: the pod may take webhooks. */
  @Get('ready')
  @HealthCheck()
  ready() {
    const check = (key: string, attempt: () => Promise<void | Record<string, number>>) => () =>
      this.indicators.check(key).attempt(attempt).withTimeout(CHECK_TIMEOUT_MS);
    const ping = (client: RedisClient) => async () => {
      await client.ping();
    };
    return this.health.check([
      check('redis', ping(this.redis.client)),
      check('redis:producer', ping(this.redis.producer)),
      ...this.queues.map((queue) =>
        check(`queue:${queue.name}`, () =>
          queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
        ),
      ),
    ]);
  }
}
