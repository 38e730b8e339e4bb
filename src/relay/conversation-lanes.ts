import { type RedisClient, RedisConnections, RedisKeys, RedisScript } from '../redis';

/** How long a message id is remembered for deduplication (WhatsApp retries up to 7 days). */
const DEDUPE_SECONDS = 7 * 24 * 60 * 60;

/** Lua: adds ARGV[1] after the last message of the lane KEYS[2] (arrival order). */
const ADD_AT_LANE_END = `
local function addAtLaneEnd()
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  redis.call('ZADD', KEYS[2], last[2] and (tonumber(last[2]) + 1) or 0, ARGV[1])
end
`;

/**
 * Remember the message (its id deduplicates it) and put it in its conversation's lane, in one
 * step. The lane is a sorted set: by the given score, or, without one, after the lane's last
 * message (arrival order). Answers 'new', or the status of the message already known.
 */
const ACCEPT = new RedisScript(`${ADD_AT_LANE_END}
local status = redis.call('HGET', KEYS[1], 's')
if status then return status end
redis.call('HSET', KEYS[1], 's', 'pending', 'c', ARGV[2], 'm', ARGV[3], 'a', ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[4])
if ARGV[5] == '' then addAtLaneEnd() else redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1]) end
return 'new'
`);

/**
 * Lua: rewrites the record KEYS[1], whose remaining time to live is `ttl` ms, as its status
 * alone, which goes on deduplicating. Not HDEL: a hash that outgrew Redis' compact encoding
 * (a long payload) keeps the large one after its fields are deleted.
 */
const KEEP_STATUS_ONLY = `
local function keepStatusOnly(status, ttl)
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 's', status)
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
end
`;

/**
 * Settle a message: take it out of its lane, record the outcome and answer the lane's head.
 * A failed message keeps its payload and progress for an operator's retry until the record
 * expires; any other keeps its status alone. An expired record is not brought back.
 */
const SETTLE = new RedisScript(`${KEEP_STATUS_ONLY}
redis.call('ZREM', KEYS[2], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl ~= -2 then
  if ARGV[2] == 'failed' then redis.call('HSET', KEYS[1], 's', 'failed')
  else keepStatusOnly(ARGV[2], ttl) end
end
return redis.call('ZRANGE', KEYS[2], 0, 0)[1]
`);

/** The message's status, payload, acceptance time and progress, then its lane's head. */
const READ = new RedisScript(`
local read = redis.call('HMGET', KEYS[1], 's', 'm', 'a', 'p')
read[5] = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
return read
`);

/**
 * Put a failed message back in its lane as pending, after the lane's last message: never in
 * front of a head that may be in flight. One whose job failed before it could settle is still
 * pending and keeps its place.
 */
const REQUEUE = new RedisScript(`${ADD_AT_LANE_END}
local status = redis.call('HGET', KEYS[1], 's')
if status ~= 'failed' and status ~= 'pending' then return status or 'gone' end
if redis.call('HEXISTS', KEYS[1], 'm') == 0 then return 'gone' end
redis.call('HSET', KEYS[1], 's', 'pending')
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then addAtLaneEnd() end
return 'pending'
`);

/**
 * Give up on a message that was not delivered: status 'discarded' (a redelivery by the
 * provider stays a duplicate) and nothing else kept, out of its lane.
 */
const DISCARD = new RedisScript(`${KEEP_STATUS_ONLY}
local status = redis.call('HGET', KEYS[1], 's')
if status ~= 'failed' and status ~= 'pending' then return status or 'gone' end
keepStatusOnly('discarded', redis.call('PTTL', KEYS[1]))
redis.call('ZREM', KEYS[2], ARGV[1])
return 'discarded'
`);

export type MessageStatus = 'pending' | 'delivered' | 'failed' | 'discarded';

/** A pending message as its lane keeps it. */
export interface LaneMessage<T> {
  payload: T;
  /** Epoch ms at which the lane accepted it. */
  acceptedAt: number;
  /** Parts already delivered by an earlier attempt (a split message resumes after them). */
  partsDone: number;
}

/** A message's record and its lane's head, read together. */
export interface LaneView<T> {
  status?: MessageStatus;
  /** Undefined once settled (unless failed) or expired. */
  message?: LaneMessage<T>;
  head: string | null;
}

/**
 * Per-conversation order, for one direction (`in`: customer → Connect, `out`: Connect →
 * customer). Each conversation has a lane: the ids of its pending messages, in arrival order or
 * by a score the caller gives (`{p}:relay:<direction>-lane:<conversation>`); each message its
 * record (`{p}:relay:<direction>:<message>`: status, conversation, payload, progress; the status
 * alone once delivered or discarded). Only the head of a lane is delivered; the others wait their
 * turn, so a message retried with backoff keeps every later message of its conversation behind it
 * while other conversations go on.
 */
export class ConversationLanes<T> {
  private patient?: RedisClient;

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
        messageId,
        conversationId,
        JSON.stringify(payload),
        DEDUPE_SECONDS,
        score === undefined ? '' : score,
        Date.now(),
      ],
    )) as 'new' | MessageStatus;
  }

  async head(conversationId: string): Promise<string | null> {
    const [head] = await this.connections.client.zrange(this.laneKey(conversationId), 0, 0);
    return head ?? null;
  }

  /** The message's status and record and its lane's head, in one round trip. */
  async read(conversationId: string, messageId: string): Promise<LaneView<T>> {
    const [status, payload, acceptedAt, partsDone, head] = (await READ.run(
      this.connections.client,
      [this.messageKey(messageId), this.laneKey(conversationId)],
      [],
    )) as (string | null | undefined)[];
    return {
      status: (status ?? undefined) as MessageStatus | undefined,
      message: laneMessage<T>(payload, acceptedAt, partsDone),
      head: head ?? null,
    };
  }

  /** The status of each of `messageIds`; undefined for one the relay has no record of. */
  async statuses(messageIds: string[]): Promise<(MessageStatus | undefined)[]> {
    if (messageIds.length === 0) return [];
    const pipeline = this.connections.client.pipeline();
    for (const id of messageIds) pipeline.hget(this.messageKey(id), 's');
    const answers = (await pipeline.exec()) ?? [];
    return messageIds.map((_, index) => {
      const [error, status] = answers[index] ?? [];
      if (error) throw error;
      return (status ?? undefined) as MessageStatus | undefined;
    });
  }

  async message(messageId: string): Promise<LaneMessage<T> | undefined> {
    const [payload, acceptedAt, partsDone] = await this.connections.client.hmget(
      this.messageKey(messageId),
      'm',
      'a',
      'p',
    );
    return laneMessage<T>(payload, acceptedAt, partsDone);
  }

  /**
   * Records that the first `parts` parts of a pending message were delivered. It waits for
   * Redis rather than failing fast: a part already sent must be recorded, or a retry sends it
   * again.
   */
  async recordProgress(messageId: string, parts: number): Promise<void> {
    this.patient ??= this.connections.forWorker(`${this.direction}-progress`);
    await this.patient.hset(this.messageKey(messageId), 'p', parts);
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

  /** Answers 'pending' once back in the lane, else the status that prevents it ('gone': expired). */
  async requeue(conversationId: string, messageId: string): Promise<MessageStatus | 'gone'> {
    return (await REQUEUE.run(
      this.connections.client,
      [this.messageKey(messageId), this.laneKey(conversationId)],
      [messageId],
    )) as MessageStatus | 'gone';
  }

  /** Answers 'discarded' once given up on, else the status that prevents it ('gone': expired). */
  async discard(conversationId: string, messageId: string): Promise<MessageStatus | 'gone'> {
    return (await DISCARD.run(
      this.connections.client,
      [this.messageKey(messageId), this.laneKey(conversationId)],
      [messageId],
    )) as MessageStatus | 'gone';
  }

  private messageKey(messageId: string): string {
    return this.keys.key('relay', this.direction, messageId);
  }

  private laneKey(conversationId: string): string {
    return this.keys.key('relay', `${this.direction}-lane`, conversationId);
  }
}

function laneMessage<T>(
  payload: string | null | undefined,
  acceptedAt: string | null | undefined,
  partsDone: string | null | undefined,
): LaneMessage<T> | undefined {
  if (!payload) return undefined;
  return {
    payload: JSON.parse(payload) as T,
    acceptedAt: Number(acceptedAt ?? 0),
    partsDone: Number(partsDone ?? 0),
  };
}
