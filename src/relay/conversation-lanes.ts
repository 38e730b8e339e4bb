import { Injectable } from '@nestjs/common';
import { RedisConnections, RedisKeys, RedisScript } from '../redis';
import type { InboundMessage } from './inbound-message';

/** How long a provider message id is remembered for deduplication (WhatsApp retries up to 7 days). */
const DEDUPE_SECONDS = 7 * 24 * 60 * 60;

/**
 * Remember the message (its id deduplicates it) and append it to its conversation's lane, in one
 * step. Answers 'new', or the status of the message already known ('pending', 'delivered', 'failed').
 */
const ACCEPT = new RedisScript(`
local status = redis.call('HGET', KEYS[1], 's')
if status then return status end
redis.call('HSET', KEYS[1], 's', 'pending', 'c', ARGV[2], 'm', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[4])
return 'new'
`);

/**
 * Settle the lane's head: record the outcome, drop the payload (the status alone keeps
 * deduplicating; an expired record is not brought back) and answer the next message in line.
 */
const SETTLE = new RedisScript(`
if redis.call('LINDEX', KEYS[2], 0) == ARGV[1] then redis.call('LPOP', KEYS[2]) end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 's', ARGV[2])
  redis.call('HDEL', KEYS[1], 'm')
end
return redis.call('LINDEX', KEYS[2], 0)
`);

export type MessageStatus = 'pending' | 'delivered' | 'failed';

/**
 * Per-conversation order. Each conversation has a lane: the ids of its pending messages in
 * arrival order (`{p}:relay:lane:<conversation>`); each message its record
 * (`{p}:relay:in:<message>`: status, conversation, payload). Only the message at the head of
 * its lane is delivered; the others wait their turn, so a message retried with backoff keeps
 * every later message of its conversation behind it, while other conversations go on.
 */
@Injectable()
export class ConversationLanes {
  constructor(
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
  ) {}

  async accept(
    messageId: string,
    conversationId: string,
    message: InboundMessage,
  ): Promise<'new' | MessageStatus> {
    return (await ACCEPT.run(
      this.connections.client,
      [this.messageKey(messageId), this.laneKey(conversationId)],
      [JSON.stringify(message), conversationId, DEDUPE_SECONDS, messageId],
    )) as 'new' | MessageStatus;
  }

  head(conversationId: string): Promise<string | null> {
    return this.connections.client.lindex(this.laneKey(conversationId), 0);
  }

  async status(messageId: string): Promise<MessageStatus | undefined> {
    const status = await this.connections.client.hget(this.messageKey(messageId), 's');
    return (status ?? undefined) as MessageStatus | undefined;
  }

  async message(messageId: string): Promise<InboundMessage | undefined> {
    const payload = await this.connections.client.hget(this.messageKey(messageId), 'm');
    return payload ? (JSON.parse(payload) as InboundMessage) : undefined;
  }

  /** Records the head's outcome and answers the next message id of the lane. */
  async settle(
    conversationId: string,
    messageId: string,
    status: Exclude<MessageStatus, 'pending'>,
  ): Promise<string | null> {
    return (await SETTLE.run(
      this.connections.client,
      [this.messageKey(messageId), this.laneKey(conversationId)],
      [messageId, status],
    )) as string | null;
  }

  private messageKey(messageId: string): string {
    return this.keys.key('relay', 'in', messageId);
  }

  private laneKey(conversationId: string): string {
    return this.keys.key('relay', 'lane', conversationId);
  }
}
