import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ChannelAdaptersModule } from '../channels/outbound';
import { ConversationsModule } from '../conversations';
import { RedisConnections, RedisKeys } from '../redis';
import { FailedMessages } from './failed-messages';
import { InboundIntake } from './inbound-intake';
import { InboundLanes } from './inbound-lanes';
import { InboundWorker } from './inbound-worker';
import { OutboundIntake } from './outbound-intake';
import { OutboundLanes } from './outbound-lanes';
import { OutboundOrder } from './outbound-order';
import { OutboundWorker } from './outbound-worker';
import { QueueErrorLog } from './queue-errors';
import { QUEUES } from './queues';
import { RelayMetrics } from './relay-metrics';

/**
 * BullMQ registered once: queues share the fail-fast producer connection (an enqueue while
 * Redis is away rejects at once, so the webhook answers 503); workers take their own
 * connection from `RedisConnections.forWorker`. Nothing in the service reads the queues' event
 * streams, so each keeps about 1000 events rather than BullMQ's 10 000.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [RedisConnections, RedisKeys],
      useFactory: (connections: RedisConnections, keys: RedisKeys) => ({
        connection: connections.producer,
        prefix: keys.prefix,
        streams: { events: { maxLen: 1000 } },
      }),
    }),
    BullModule.registerQueue(...QUEUES.map((name) => ({ name }))),
    ConversationsModule,
    ChannelAdaptersModule,
  ],
  providers: [
    QueueErrorLog,
    InboundLanes,
    InboundIntake,
    InboundWorker,
    OutboundLanes,
    OutboundIntake,
    OutboundOrder,
    OutboundWorker,
    FailedMessages,
    RelayMetrics,
  ],
  exports: [BullModule, InboundIntake, OutboundIntake, OutboundOrder, FailedMessages],
})
export class RelayModule {}
