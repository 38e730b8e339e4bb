import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { RedisConnections, RedisKeys } from '../redis';
import type { InboundMessage } from './inbound-message';

/** How long a provider message id is remembered for deduplication (WhatsApp retries up to 7 days). */
const DEDUPE_SECONDS = 7 * 24 * 60 * 60;

/**
 * In one step: remember the message (its id deduplicates it), and append it to its conversation's
 * lane, the arrival order the inbound worker delivers in. Answers 'new', or the status of the
 * message already known ('pending', 'delivered', 'failed').
 */
const ACCEPT = `
local status = redis.call('HGET', KEYS[1], 's')
if status then return status end
redis.call('HSET', KEYS[1], 's', 'pending', 'c', ARGV[2], 'm', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[4])
return 'new'
`;

export type IntakeOutcome = 'accepted' | 'duplicate';

export interface InboundJob {
  /** The message's id in the relay: `relay:in:<id>` and the BullMQ job id. */
  messageId: string;
  conversationId: string;
}

/**
 * Stores inbound messages durably before the webhook answers 2xx. Every command fails fast
 * while Redis is away (the request connection has no offline queue), so the webhook can
 * answer 503 and the provider retries.
 */
@Injectable()
export class InboundIntake {
  constructor(
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
    @InjectQueue('inbound') private readonly queue: Queue<InboundJob>,
  ) {}

  async accept(messages: InboundMessage[]): Promise<IntakeOutcome[]> {
    const outcomes: IntakeOutcome[] = [];
    for (const message of messages) outcomes.push(await this.acceptOne(message));
    return outcomes;
  }

  private async acceptOne(message: InboundMessage): Promise<IntakeOutcome> {
    const conversationId = conversationIdOf(message);
    // BullMQ job ids may not contain ':'; encodeURIComponent leaves none.
    const messageId = encodeURIComponent(`${message.channel}/${message.providerMessageId}`);
    const status = (await this.connections.client.eval(
      ACCEPT,
      2,
      this.keys.key('relay', 'in', messageId),
      this.keys.key('relay', 'lane', conversationId),
      JSON.stringify(message),
      conversationId,
      DEDUPE_SECONDS,
      messageId,
    )) as string;
    // A message still pending may have been stored by a request that failed before its job was
    // added; adding again is harmless, BullMQ keeps one job per id.
    if (status === 'new' || status === 'pending') {
      await this.queue.add('message', { messageId, conversationId }, { jobId: messageId });
    }
    return status === 'new' ? 'accepted' : 'duplicate';
  }
}

function conversationIdOf(message: InboundMessage): string {
  return createHash('sha256')
    .update([message.channel, message.customerAddress, message.businessAddress].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}
