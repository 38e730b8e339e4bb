import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { ConversationStore } from '../conversations';
import { Metrics } from './metrics';

const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

/**
 * Gauges of the shared state, read from Redis at each scrape (every replica reports the same
 * values): `csb_queue_jobs{queue,state}` and `csb_active_conversations`.
 */
@Injectable()
export class StateGauges {
  constructor(
    metrics: Metrics,
    store: ConversationStore,
    @InjectQueue('inbound') inbound: Queue,
    @InjectQueue('outbound') outbound: Queue,
  ) {
    metrics.gauge(
      'csb_queue_jobs',
      'Jobs of the relay queues by state',
      ['queue', 'state'],
      async (gauge) => {
        for (const queue of [inbound, outbound]) {
          const counts = await queue.getJobCounts(...STATES);
          for (const state of STATES) gauge.set({ queue: queue.name, state }, counts[state] ?? 0);
        }
      },
    );
    metrics.gauge(
      'csb_active_conversations',
      'Conversations with a live Connect contact',
      [],
      async (gauge) => gauge.set(await store.activeCount()),
    );
  }
}
