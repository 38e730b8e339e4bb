import { RedisConnections, RedisKeys, RedisScript } from '../redis';

/** How long a message id is remembered for deduplication (WhatsApp retries up to 7 days). */
const DEDUPE_SECONDS = 7 * 24 * 60 * 60;

/**
 * Remember the message (its id deduplicates it) and put it in its conversation's lane, in one
 * step. The lane is a sorted set: by the given score, or, without one, after the lane's last
 * message (arrival order). Answers 'new', or the status of the message already known.
 */
const ACCEPT = new RedisScript(`
local status = redis.call('HGET', KEYS[1], 's')
if status then return status end
redis.call('HSET', KEYS[1], 's', 'pending', 'c', ARGV[2], 'm', ARGV[1], 'a', ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local score = ARGV[5]
if score == '' then
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  score = last[2] and (tonumber(last[2]) + 1) or 0
end
redis.call('ZADD', KEYS[2], score, ARGV[4])
return 'new'
`);

/**
 * Settle a message: take it out of its lane, record the outcome, drop the payload (the status
 * alone keeps deduplicating; an expired record is not brought back) and answer the lane's head.
 */
const SETTLE = new RedisScript(`
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 's', ARGV[2])
  redis.call('HDEL', KEYS[1], 'm', 'p')
end
return redis.call('ZRANGE', KEYS[2], 0, 0)[1]
`);

export type MessageStatus = 'pending' | 'delivered' | 'failed';

/** A pending message as its lane keeps it. */
export interface LaneMessage<T> {
  payload: T;
  /** Epoch ms at which the lane accepted it. */
  acceptedAt: number;
  /** Parts already delivered by an earlier attempt (a split message resumes after them). */
  partsDone: number;
}

/**
 * Per-conversation order, for one direction (`in`: customer → Connect, `out`: Connect →
 * customer). Each conversation has a lane: the ids of its pending messages, in arrival order or
 * by a score the caller gives (`{p}:relay:<direction>-lane:<conversation>`); each message its
 * record (`{p}:relay:<direction>:<message>`: status, conversation, payload, progress). Only the
 * head of a lane is delivered; the others wait their turn, so a message retried with backoff
 * keeps every later message of its conversation behind it while other conversations go on.
 */
export class ConversationLanes<T> {
  constructor(
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
    private readonly direction: 'in' | 'out',
  ) {}

  async accept(
    messageId: string,
    conversationId: string,
    payload: T,
    score?: number,
  ): Promise<'new' | MessageStatus> {
    return (await ACCEPT.run(
      this.connections.client,
      [this.messageKey(messageId), this.laneKey(conversationId)],
      [
        JSON.stringify(payload),
        conversationId,
        DEDUPE_SECONDS,
        messageId,
        score === undefined ? '' : score,
        Date.now(),
      ],
    )) as 'new' | MessageStatus;
  }

  async head(conversationId: string): Promise<string | null> {
    const [head] = await this.connections.client.zrange(this.laneKey(conversationId), 0, 0);
    return head ?? null;
  }

  async status(messageId: string): Promise<MessageStatus | undefined> {
    const status = await this.connections.client.hget(this.messageKey(messageId), 's');
    return (status ?? undefined) as MessageStatus | undefined;
  }

  async message(messageId: string): Promise<LaneMessage<T> | undefined> {
    const [payload, acceptedAt, partsDone] = await this.connections.client.hmget(
      this.messageKey(messageId),
      'm',
      'a',
      'p',
    );
    if (!payload) return undefined;
    return {
      payload: JSON.parse(payload) as T,
      acceptedAt: Number(acceptedAt ?? 0),
      partsDone: Number(partsDone ?? 0),
    };
  }

  /** Records that the first `parts` parts of a pending message were delivered. */
  async recordProgress(messageId: string, parts: number): Promise<void> {
    await this.connections.client.hset(this.messageKey(messageId), 'p', parts);
  }

  /** Records the outcome, takes the message out of its lane and answers the lane's head. */
  async settle(
    conversationId: string,
    messageId: string,
    status: Exclude<MessageStatus, 'pending'>,
  ): Promise<string | null> {
    return ((await SETTLE.run(
      this.connections.client,
      [this.messageKey(messageId), this.laneKey(conversationId)],
      [messageId, status],
    )) ?? null) as string | null;
  }

  private messageKey(messageId: string): string {
    return this.keys.key('relay', this.direction, messageId);
  }

  private laneKey(conversationId: string): string {
    return this.keys.key('relay', `${this.direction}-lane`, conversationId);
  }
}
