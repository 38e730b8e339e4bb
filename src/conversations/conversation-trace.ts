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
/**
 * The names fields are stored under: a trace holds up to TRACE_MAX_EVENTS events for days, and
 * the names were most of an event. None is a TraceEvent field name, so entries written with the
 * full names (by earlier versions) read as they are.
 */
const STORED_NAMES: Record<keyof TraceEvent, string> = {
  at: 't',
  event: 'e',
  direction: 'd',
  providerMessageId: 'pm',
  connectMessageId: 'cm',
  contactId: 'c',
  part: 'p',
  parts: 'n',
  attempt: 'a',
  reason: 'r',
  status: 's',
  address: 'ad',
};
const FIELD_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(STORED_NAMES).map(([field, stored]) => [stored, field]),
);
/** A message either way: its event is also the conversation's last activity, for the idle sweep. */
const MESSAGE_EVENTS: ReadonlySet<TraceEventType> = new Set(['received', 'sent', 'delivered']);

/**
 * What happened to a conversation's messages, for support: the last TRACE_MAX_EVENTS events,
 * kept TRACE_TTL_SECONDS after the last one. Only the fields of TraceEvent are stored, so a
 * caller passing a wider object cannot leak a token into it; addresses are masked and phone
 * numbers in `reason` too; fields are stored under short names (`parseTrace` reads them). A
 * message event also records the conversation's last activity (`{csb}:conv:by-activity`) in the
 * same round trip.
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
        .rpush(key, JSON.stringify(renamed(entry, STORED_NAMES)))
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
    return parseTrace(entries);
  }
}

/** The events of a trace list as Redis holds them; an entry that is not a JSON object is skipped. */
export function parseTrace(entries: string[]): TraceEvent[] {
  return entries.flatMap((entry) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(entry);
    } catch {
      return [];
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return [];
    return [renamed(parsed, FIELD_NAMES) as unknown as TraceEvent];
  });
}

/** A copy of `object` with each field named as `names` says, if it says. */
function renamed(object: object, names: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(object).map(([field, value]) => [
      Object.hasOwn(names, field) ? names[field] : field,
      value,
    ]),
  );
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
