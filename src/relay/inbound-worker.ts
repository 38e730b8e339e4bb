import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { ChannelRegistry } from '../channels/outbound';
import { AppConfig } from '../config';
import { ConnectRejectedError } from '../connect';
import { ConversationService, type FileDownloader } from '../conversations';
import { RedisConnections, RedisKeys } from '../redis';
import type { LaneMessage } from './conversation-lanes';
import { inboundJobOptions } from './inbound-intake';
import { InboundLanes } from './inbound-lanes';
import type { InboundMessage } from './inbound-message';
import { type LaneJob, LaneWorker } from './lane-worker';
import { RelayMetrics } from './relay-metrics';

/** Delivers customers' messages to Connect, one lane head at a time per conversation. */
@Injectable()
export class InboundWorker extends LaneWorker<InboundMessage> {
  constructor(
    config: AppConfig,
    connections: RedisConnections,
    keys: RedisKeys,
    lanes: InboundLanes,
    private readonly conversations: ConversationService,
    private readonly channels: ChannelRegistry,
    private readonly metrics: RelayMetrics,
    @InjectQueue('inbound') queue: Queue<LaneJob>,
  ) {
    super(connections, keys, lanes, {
      queue,
      concurrency: config.relay.inboundConcurrency,
      holdMs: () => 0,
      lockMs: config.relay.jobLockMs,
      jobOptions: (messageId) => inboundJobOptions(config, messageId),
    });
  }

  async deliver(job: LaneJob, message: LaneMessage<InboundMessage>): Promise<void> {
    const { payload } = message;
    await this.conversations.deliver(
      job.conversationId,
      job.messageId,
      payload,
      this.downloaderFor(payload.channel),
    );
    this.metrics.delivered('inbound', payload.channel, payload.receivedAt);
  }

  isPermanent(error: unknown): boolean {
    return error instanceof ConnectRejectedError;
  }

  recordRetry(job: LaneJob, payload: InboundMessage, attempt: number, reason: string) {
    this.metrics.retried('inbound', payload.channel);
    return this.conversations.recordRetry(job.conversationId, payload, attempt, reason);
  }

  async recordFailure(job: LaneJob, payload: InboundMessage | undefined, reason: string) {
    this.metrics.failed('inbound', payload?.channel ?? 'unknown');
    if (payload) await this.conversations.recordFailure(job.conversationId, payload, reason);
  }

  /** A channel switched off since the message came in can no longer fetch its files: the agent is told. */
  private downloaderFor(channel: string): FileDownloader {
    try {
      const adapter = this.channels.adapterFor(channel);
      return (file) => adapter.download(file);
    } catch {
      return () => Promise.resolve({ refusal: `the ${channel} channel is not enabled` });
    }
  }
}
