import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { RedisConnections } from '../redis';

/**
 * Queues re-emit their connection's errors; without a listener BullMQ prints them raw.
 * Connection loss is already reported by RedisConnections, so only other errors are logged.
 */
@Injectable()
export class QueueErrorLog implements OnModuleInit {
  private readonly logger = new Logger('Queues');

  constructor(
    private readonly connections: RedisConnections,
    @InjectQueue('inbound') private readonly inbound: Queue,
    @InjectQueue('outbound') private readonly outbound: Queue,
  ) {}

  onModuleInit(): void {
    for (const queue of [this.inbound, this.outbound]) {
      queue.on('error', (error: Error) => {
        if (this.connections.producer.status !== 'ready') return;
        this.logger.warn({ queue: queue.name, reason: error.message }, 'queue error');
      });
    }
  }
}
