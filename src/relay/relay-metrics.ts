import { Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { Metrics } from '../ops/metrics';

export type Direction = 'inbound' | 'outbound';

/**
 * `csb_messages_relayed_total{direction,channel,outcome}` and `csb_relay_latency_seconds`: from
 * the webhook's arrival (a provider's for inbound, SNS's for outbound) to the other side's
 * acceptance (Connect's, the provider's).
 */
@Injectable()
export class RelayMetrics {
  private readonly relayed: Counter<'direction' | 'channel' | 'outcome'>;
  private readonly latency: Histogram<'direction' | 'channel'>;

  constructor(metrics: Metrics) {
    this.relayed = metrics.counter(
      'csb_messages_relayed_total',
      'Messages relayed, by direction, channel and outcome (delivered, retried, failed)',
      ['direction', 'channel', 'outcome'],
    );
    this.latency = metrics.histogram(
      'csb_relay_latency_seconds',
      'From the webhook that brought a message to its acceptance on the other side',
      ['direction', 'channel'],
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    );
  }

  delivered(direction: Direction, channel: string, receivedAt: number): void {
    this.relayed.inc({ direction, channel, outcome: 'delivered' });
    this.latency.observe({ direction, channel }, Math.max(0, Date.now() - receivedAt) / 1000);
  }

  retried(direction: Direction, channel: string): void {
    this.relayed.inc({ direction, channel, outcome: 'retried' });
  }

  failed(direction: Direction, channel: string): void {
    this.relayed.inc({ direction, channel, outcome: 'failed' });
  }
}
