import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations';
import { RedisConnections, RedisKeys } from '../redis';
import { InboundIntake } from './inbound-intake';
import { InboundLanes } from './inbound-lanes';
import { InboundWorker } from './inbound-worker';
import { QueueErrorLog } from './queue-errors';
import { QUEUES } from './queues';

/**
 * BullMQ registered once: producers share the fail-fast request connection (an enqueue while
 * Redis is away rejects at once, so the webhook answers 503); workers take their own
 * connection from `RedisConnections.forWorker`.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [RedisConnections, RedisKeys],
      useFactory: (connections: RedisConnections, keys: RedisKeys) => ({
        connection: connections.client,
        prefix: keys.prefix,
      }),
    }),
    BullModule.registerQueue(...QUEUES.map((name) => ({ name }))),
    ConversationsModule,
  ],
  providers: [QueueErrorLog, InboundLanes, InboundIntake, InboundWorker],
  exports: [BullModule, InboundIntake],
})
export class RelayModule {}
