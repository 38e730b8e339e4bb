import { Injectable } from '@nestjs/common';
import { maskPhone, maskPhonesInText } from '../logging';
import { RedisConnections, RedisKeys, type RedisClient } from '../redis';
import { ConversationStoreError } from './conversation-errors';
import { ConversationKeys } from './conversation-keys';

export const TRACE_MAX_EVENTS = 200;
export const TRACE_TTL_SECONDS = 7 * 24 * 3_600;
const MAX_REASON_LENGTH = 500;

export type TraceEventType =
  | 'received'
  | 'contact-started'
  | 'sent'
  | 'delivered'
  | 'status'
  | 'retried'
  | 'failed'
  | 'dropped'
  | 'credentials-refreshed'
  | 'contact-transferred'
  | 'contact-ended';

export interface TraceEvent {
  /** Epoch ms. */
  at: number;
  event: TraceEventType;
  direction?: 'inbound' | 'outbound';
  providerMessageId?: string;
  connectMessageId?: string;
  contactId?: string;
  /** Part number of a split message, from 1. */
  part?: number;
  parts?: number;
  attempt?: number;
  reason?: string;
  /** The provider's state of a sent message (`status` events): sent, delivered, read, failed… */
  status?: string;
  /** A customer or business address, stored masked. */
  address?: string;
}

export type NewTraceEvent = Omit<TraceEvent, 'at'> & { at?: number };

const TEXT_FIELDS = [
  'direction',
  'providerMessageId',
  'connectMessageId',
  'contactId',
  'status',
] as const;
const NUMBER_FIELDS = ['part', 'parts', 'attempt'] as const;
/** A message either way: its event is also the conversation's last activity, for the idle sweep. */
const MESSAGE_EVENTS: ReadonlySet<TraceEventType> = new Set(['received', 'sent', 'delivered']);

/**
 * What happened to a conversation's messages, for support: the last TRACE_MAX_EVENTS events,
 * kept TRACE_TTL_SECONDS after the last one. Only the fields of TraceEvent are stored, so a
 * caller passing a wider object cannot leak a token into it; addresses are masked and phone
 * numbers in `reason` too. A message event also records the conversation's last activity
 * (`{csb}:conv:by-activity`) in the same round trip.
 */
@Injectable()
export class ConversationTrace {
  private readonly redis: RedisClient;
  private readonly keys: ConversationKeys;

  constructor(connections: RedisConnections, redisKeys: RedisKeys) {
    this.redis = connections.client;
    this.keys = new ConversationKeys(redisKeys);
  }

  async append(conversationId: string, event: NewTraceEvent): Promise<void> {
    const key = this.keys.trace(conversationId);
    const entry = traceEntry(event);
    try {
      const transaction = this.redis
        .multi()
        .rpush(key, JSON.stringify(entry))
        .ltrim(key, -TRACE_MAX_EVENTS, -1)
        .expire(key, TRACE_TTL_SECONDS);
      if (MESSAGE_EVENTS.has(entry.event)) {
        transaction.zadd(this.keys.byActivity(), 'GT', entry.at, conversationId);
      }
      const replies = await transaction.exec();
      const failed = replies?.find(([error]) => error)?.[0];
      if (failed) throw failed;
    } catch (error) {
      throw new ConversationStoreError('trace append', conversationId, reasonOf(error));
    }
  }

  /** Oldest first. */
  async list(conversationId: string): Promise<TraceEvent[]> {
    let entries: string[];
    try {
      entries = await this.redis.lrange(this.keys.trace(conversationId), 0, -1);
    } catch (error) {
      throw new ConversationStoreError('trace list', conversationId, reasonOf(error));
    }
    return entries.flatMap((entry) => {
      try {
        return [JSON.parse(entry) as TraceEvent];
      } catch {
        return [];
      }
    });
  }
}

function traceEntry(event: NewTraceEvent): TraceEvent {
  const entry: TraceEvent = { at: event.at ?? Date.now(), event: event.event };
  const copy = entry as unknown as Record<string, unknown>;
  for (const field of TEXT_FIELDS) {
    if (typeof event[field] === 'string') copy[field] = event[field];
  }
  for (const field of NUMBER_FIELDS) {
    if (typeof event[field] === 'number') copy[field] = event[field];
  }
  if (event.reason) entry.reason = maskPhonesInText(event.reason).slice(0, MAX_REASON_LENGTH);
  if (event.address) entry.address = maskPhone(event.address);
  return entry;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : 'unknown error';
}
