import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import type { Queue } from 'bullmq';
import { RedisConnections } from '../redis';

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

  /** Redis answers and every queue can be read: the pod may take webhooks. */
  @Get('ready')
  @HealthCheck()
  ready() {
    const checks: HealthIndicatorFunction[] = [
      () =>
        this.indicators
          .check('redis')
          .attempt(async () => {
            await this.redis.client.ping();
          })
          .withTimeout(CHECK_TIMEOUT_MS),
      ...this.queues.map(
        (queue) => () =>
          this.indicators
            .check(`queue:${queue.name}`)
            .attempt(() => queue.getJobCounts('waiting', 'active', 'delayed', 'failed'))
            .withTimeout(CHECK_TIMEOUT_MS),
      ),
    ];
    return this.health.check(checks);
  }
}
