import { setTimeout as delay } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { LeaseLock, RedisConnections, RedisKeys, type RedisClient } from '../redis';
import {
  type ContactDetails,
  type Conversation,
  type ConversationKey,
  type ConversationView,
  conversationIdOf,
} from './conversation';
import {
  ConversationLockTimeoutError,
  ConversationStoreError,
  CorruptConversationError,
} from './conversation-errors';
import { ConversationKeys } from './conversation-keys';
import {
  CONTACT_FIELD_PREFIX,
  RECORD,
  TOKENS,
  contactIdsIn,
  credentialsContext,
  readConversation,
  readConversationView,
  tokenContext,
} from './conversation-record';
import {
  ADD_CONTACT_ID,
  APPLIED,
  DROP_STALE_INDEX_ENTRY,
  END_ITEM_ARRIVED,
  MARK_ENDED,
  SAVE_CONTACT,
  STALE_READ,
  UPDATE_CREDENTIALS,
} from './conversation-scripts';
import { TokenCipher } from './token-cipher';
import { type TokenPair, packTokens, unpackTokens } from './token-pair';

/** How long the ContactIds of a contact replaced by saveContact (without markEnded) stay indexed. */
/** Longer than a start can take: StartChatContact to CreateParticipantConnection is ≤ 5 min. */
const STARTING_TTL_SECONDS = 600;

export const SUPERSEDED_CONTACT_GRACE_SECONDS = 3_600;
/** Attempts of a write whose read of the live ContactIds raced with another write. */
const MAX_STALE_READ_ATTEMPTS = 5;
const LOCK_RETRY_DELAY_MS = 50;

export interface CredentialExpiry {
  conversationId: string;
  connectionExpiresAt: number;
}

export interface ConversationActivity {
  conversationId: string;
  /** The last message either way, epoch ms. */
  lastActivityAt: number;
}

/** What the indexes say about a stream item's contact, read at one instant. */
export interface StreamContactLookup {
  /** The conversation indexed under the InitialContactId, else under the ContactId. */
  conversationId?: string;
  /** Whether the ContactId itself is indexed. */
  contactIdIndexed: boolean;
  /** The conversation whose contact `markStarting` noted under the InitialContactId. */
  startingConversationId?: string;
}

/** The sorted-set indexes of conversation ids that scheduled sweeps walk. */
export type ConversationIndex = 'credential-expiry' | 'activity';

/** One step of a walk over an index: where to go on ('0' when done) and what it removed. */
export interface IndexCollectionStep {
  cursor: string;
  scanned: number;
  removed: number;
}

/**
 * The conversation state in Redis (layout: README.md beside this file). Tokens are sealed by
 * TokenCipher before they leave the process and opened only on the way back to the caller;
 * errors and log lines carry conversation ids, never tokens or addresses.
 */
@Injectable()
export class ConversationStore {
  private readonly logger = new Logger(ConversationStore.name);
  private readonly redis: RedisClient;
  private readonly keys: ConversationKeys;

  constructor(
    connections: RedisConnections,
    redisKeys: RedisKeys,
    private readonly cipher: TokenCipher,
  ) {
    this.redis = connections.client;
    this.keys = new ConversationKeys(redisKeys);
  }

  conversationId(key: ConversationKey): string {
    return conversationIdOf(key);
  }

  async get(id: string): Promise<Conversation | undefined> {
    const [record, credentials, legacyTokens] = await this.call('get', id, async () => {
      const replies = await this.redis
        .multi()
        .hgetall(this.keys.record(id))
        .getBuffer(this.keys.credentials(id))
        .hgetall(this.keys.tokens(id))
        .exec();
      const [record, credentials, legacyTokens] = (replies ?? []).map(([error, reply]) => {
        if (error) throw error;
        return reply;
      });
      return [
        (record ?? {}) as Record<string, string>,
        credentials as Buffer | null,
        (legacyTokens ?? {}) as Record<string, string>,
      ] as const;
    });
    if (Object.keys(record).length === 0) return undefined;
    return readConversation(id, record, () =>
      credentials ? this.openCredentials(id, credentials) : this.openLegacyTokens(id, legacyTokens),
    );
  }

  /**
   * The conversation without its tokens, which are neither read nor decrypted: support tools
   * see every conversation, even one whose tokens a changed TOKEN_ENCRYPTION_KEY cannot open.
   */
  async view(id: string): Promise<ConversationView | undefined> {
    const record = await this.call('view', id, () => this.redis.hgetall(this.keys.record(id)));
    return Object.keys(record).length === 0 ? undefined : readConversationView(id, record);
  }

  /** Whether the conversation has a record, without reading (and decrypting) it. */
  async exists(id: string): Promise<boolean> {
    const found = await this.call('exists', id, () => this.redis.exists(this.keys.record(id)));
    return found === 1;
  }

  /** By InitialContactId or any ContactId seen; ended conversations stay findable for their grace period. */
  async findByContactId(contactId: string): Promise<ConversationView | undefined> {
    const id = await this.call('findByContactId', undefined, () =>
      this.redis.get(this.keys.byContact(contactId)),
    );
    return id ? this.view(id) : undefined;
  }

  /**
   * The indexes of a stream item's contact, without reading (and decrypting) its conversation:
   * both by-contact keys and the starting marker in one read, since `saveContact` indexes the
   * contact and removes the marker at once (two reads could miss both).
   */
  async lookUpStreamContact(
    initialContactId: string,
    contactId: string,
  ): Promise<StreamContactLookup> {
    const [byInitialContactId, byContactId, starting] = await this.call(
      'lookUpStreamContact',
      undefined,
      () =>
        this.redis.mget(
          this.keys.byContact(initialContactId),
          this.keys.byContact(contactId),
          this.keys.starting(initialContactId),
        ),
    );
    const conversationId = byInitialContactId ?? byContactId ?? undefined;
    return {
      ...(conversationId !== undefined && { conversationId }),
      contactIdIndexed: byContactId !== null,
      ...(starting !== null && { startingConversationId: starting }),
    };
  }

  /**
   * Notes that the contact is being started for the conversation, before its streaming starts:
   * Connect streams the contact's first items (the flow's greeting) as soon as the customer is
   * connected, which can be before `saveContact` has recorded the contact (which removes the
   * note).
   */
  async markStarting(id: string, initialContactId: string): Promise<void> {
    await this.call('markStarting', id, () =>
      this.redis.set(this.keys.starting(initialContactId), id, 'EX', STARTING_TTL_SECONDS),
    );
  }

  /** The customer's conversations, newest activity first, optionally on one channel only. */
  async findByCustomer(customerAddress: string, channel?: string): Promise<ConversationView[]> {
    const index = await this.call('findByCustomer', undefined, () =>
      this.redis.hgetall(this.keys.byCustomer(customerAddress)),
    );
    const ids = Object.entries(index)
      .filter(([, indexedChannel]) => channel === undefined || indexedChannel === channel)
      .map(([id]) => id);
    const found = await Promise.all(ids.map((id) => this.view(id)));
    return found
      .filter((conversation) => conversation !== undefined)
      .sort((a, b) => b.updatedAt - a.updatedAt);
  }

  /**
   * Records a started and connected contact: record, tokens and every index in one script, which
   * also removes the contact's `markStarting` note. Saving a different contact over a live one
   * keeps the old ContactIds indexed for `supersededGraceSeconds`; saving the same contact again
   * is harmless.
   */
  async saveContact(
    id: string,
    key: ConversationKey,
    contact: ContactDetails,
    options: { supersededGraceSeconds?: number } = {},
  ): Promise<void> {
    if (conversationIdOf(key) !== id) {
      throw new Error(`conversation id ${id} does not belong to the given key`);
    }
    requireText(contact, [
      'initialContactId',
      'contactId',
      'participantId',
      'participantToken',
      'connectionToken',
    ]);
    requireEpochMs(contact.connectionExpiresAt, 'connectionExpiresAt');
    const graceSeconds = options.supersededGraceSeconds ?? SUPERSEDED_CONTACT_GRACE_SECONDS;
    requirePositiveInteger(graceSeconds, 'supersededGraceSeconds');

    const creds = this.sealCredentials(id, contact);
    const contactIds = [...new Set([contact.initialContactId, contact.contactId])];

    await this.retryOnStaleRead('saveContact', id, async () => {
      const record = await this.redis.hgetall(this.keys.record(id));
      const expected = contactIdsIn(record);
      const sameContact = record[RECORD.initialContactId] === contact.initialContactId;
      const superseded = sameContact
        ? []
        : expected.filter((contactId) => !contactIds.includes(contactId));
      const now = String(Date.now());
      const fields: Record<string, string> = {
        [RECORD.channel]: key.channel,
        [RECORD.customerAddress]: key.customerAddress,
        [RECORD.businessAddress]: key.businessAddress,
        [RECORD.state]: 'active',
        [RECORD.initialContactId]: contact.initialContactId,
        [RECORD.contactId]: contact.contactId,
        [RECORD.participantId]: contact.participantId,
        [RECORD.connectionExpiresAt]: String(contact.connectionExpiresAt),
        [RECORD.updatedAt]: now,
        ...(contact.displayName && { [RECORD.displayName]: contact.displayName }),
      };
      return SAVE_CONTACT.run(
        this.redis,
        [
          this.keys.record(id),
          this.keys.credentials(id),
          this.keys.tokens(id),
          this.keys.byCredentialExpiry(),
          this.keys.byCustomer(key.customerAddress),
          this.keys.starting(contact.initialContactId),
          ...contactIds.map((contactId) => this.keys.byContact(contactId)),
          ...superseded.map((contactId) => this.keys.byContact(contactId)),
        ],
        [
          JSON.stringify({
            id,
            now,
            graceSeconds: String(graceSeconds),
            expected,
            contactIds,
            superseded,
            fields,
            creds,
            cx: String(contact.connectionExpiresAt),
            channel: key.channel,
          }),
        ],
      );
    });
  }

  /**
   * Stores refreshed connection credentials of the customer participant (its ParticipantToken
   * is sealed again with them). Applies only to an active conversation whose participant is
   * still `participantId`: a refresh that raced with a new contact or with the end changes
   * nothing. True when applied.
   */
  async updateCredentials(
    id: string,
    credentials: TokenPair & { participantId: string; connectionExpiresAt: number },
  ): Promise<boolean> {
    requireText(credentials, ['participantId', 'participantToken', 'connectionToken']);
    requireEpochMs(credentials.connectionExpiresAt, 'connectionExpiresAt');
    const creds = this.sealCredentials(id, credentials);
    const result = await this.call('updateCredentials', id, () =>
      UPDATE_CREDENTIALS.run(
        this.redis,
        [
          this.keys.record(id),
          this.keys.credentials(id),
          this.keys.tokens(id),
          this.keys.byCredentialExpiry(),
        ],
        [
          JSON.stringify({
            id,
            now: String(Date.now()),
            participantId: credentials.participantId,
            creds,
            cx: String(credentials.connectionExpiresAt),
          }),
        ],
      ),
    );
    return result === APPLIED;
  }

  /** Indexes the ContactId a transfer gave the live contact and makes it the current one. */
  async addContactId(id: string, contactId: string): Promise<boolean> {
    requireText({ contactId }, ['contactId']);
    const result = await this.call('addContactId', id, () =>
      ADD_CONTACT_ID.run(
        this.redis,
        [this.keys.record(id), this.keys.byContact(contactId)],
        [JSON.stringify({ id, now: String(Date.now()), contactId })],
      ),
    );
    return result === APPLIED;
  }

  /**
   * Ends the live contact: the record stays (addresses, contact ids, lastEndedInitialContactId
   * for a persistent chat), the tokens go, the conversation leaves the credential schedule,
   * and its ContactIds stay indexed for `graceSeconds` so trailing stream events still find
   * it. False when it was not active, or when `initialContactId` is given and the live contact
   * is another one (a newer contact must not be ended for an older one's refusal).
   */
  async markEnded(
    id: string,
    options: { graceSeconds: number; initialContactId?: string; endItemPending?: boolean },
  ): Promise<boolean> {
    requirePositiveInteger(options.graceSeconds, 'graceSeconds');
    const result = await this.retryOnStaleRead('markEnded', id, async () => {
      const fields = await this.redis.hkeys(this.keys.record(id));
      const expected = fields
        .filter((field) => field.startsWith(CONTACT_FIELD_PREFIX))
        .map((field) => field.slice(CONTACT_FIELD_PREFIX.length));
      return MARK_ENDED.run(
        this.redis,
        [
          this.keys.record(id),
          this.keys.credentials(id),
          this.keys.tokens(id),
          this.keys.byCredentialExpiry(),
          this.keys.byActivity(),
          ...expected.map((contactId) => this.keys.byContact(contactId)),
        ],
        [
          JSON.stringify({
            id,
            now: String(Date.now()),
            graceSeconds: String(options.graceSeconds),
            expected,
            ...(options.initialContactId ? { initialContactId: options.initialContactId } : {}),
            ...(options.endItemPending ? { endItemPending: true } : {}),
          }),
        ],
      );
    });
    return result === APPLIED;
  }

  /** The chat-ended item of the contact that ended last has arrived (see `endItemPending`). */
  async endItemArrived(id: string, initialContactId: string): Promise<void> {
    await this.call('endItemArrived', id, () =>
      END_ITEM_ARRIVED.run(this.redis, [this.keys.record(id)], [initialContactId]),
    );
  }

  /** How many conversations have a live contact (each has an entry in the expiry index). */
  async activeCount(): Promise<number> {
    return this.call('activeCount', undefined, () =>
      this.redis.zcard(this.keys.byCredentialExpiry()),
    );
  }

  /**
   * Active conversations whose connection expires strictly before `epochMs`, soonest first;
   * with `after`, only those expiring later than that (the last expiry of the previous page).
   */
  async credentialsExpiringBefore(
    epochMs: number,
    limit: number,
    options: { after?: number } = {},
  ): Promise<CredentialExpiry[]> {
    const page = await this.scoredPage('credentialsExpiringBefore', 'credential-expiry', {
      before: epochMs,
      limit,
      after: options.after,
    });
    return page.map(([conversationId, connectionExpiresAt]) => ({
      conversationId,
      connectionExpiresAt,
    }));
  }

  /**
   * Conversations whose last message either way is older than `epochMs`, least recent first;
   * with `after`, only those last active later than that. Every trace of a message received,
   * sent or delivered records the activity (`ConversationTrace`); `markEnded` removes it, but
   * a trailing message of an ended contact adds it again, so entries may be of conversations
   * that are not active (`dropStaleIndexEntry` removes those).
   */
  async lastActiveBefore(
    epochMs: number,
    limit: number,
    options: { after?: number } = {},
  ): Promise<ConversationActivity[]> {
    const page = await this.scoredPage('lastActiveBefore', 'activity', {
      before: epochMs,
      limit,
      after: options.after,
    });
    return page.map(([conversationId, lastActivityAt]) => ({ conversationId, lastActivityAt }));
  }

  /** When the conversation's last message either way was, if one was recorded. */
  async lastActivityAt(id: string): Promise<number | undefined> {
    const score = await this.call('lastActivityAt', id, () =>
      this.redis.zscore(this.keys.byActivity(), id),
    );
    return score === null ? undefined : Number(score);
  }

  /**
   * Removes the conversation from `index` unless it is active or its entry is newer than
   * `notAfter` (epoch ms): the entry of a conversation that ended or no longer exists. True
   * when removed.
   */
  async dropStaleIndexEntry(
    index: ConversationIndex,
    id: string,
    notAfter: number,
  ): Promise<boolean> {
    requireEpochMs(notAfter, 'notAfter');
    return this.call('dropStaleIndexEntry', id, () => this.dropIfStale(index, id, notAfter));
  }

  /**
   * One ZSCAN step over `index` (cursor '0' starts a walk, and ends it when returned),
   * dropping the entries `dropStaleIndexEntry` would. The walk may see an entry twice or miss
   * one added meanwhile, as ZSCAN does; it never removes an entry of an active conversation.
   */
  async collectStaleIndexEntries(
    index: ConversationIndex,
    cursor: string,
    options: { count: number; notAfter: number },
  ): Promise<IndexCollectionStep> {
    requirePositiveInteger(options.count, 'count');
    requireEpochMs(options.notAfter, 'notAfter');
    return this.call('collectStaleIndexEntries', undefined, async () => {
      const [next, flat] = await this.redis.zscan(
        this.indexKey(index),
        cursor,
        'COUNT',
        options.count,
      );
      const ids = flat.filter((_, i) => i % 2 === 0);
      const dropped = await Promise.all(
        ids.map((id) => this.dropIfStale(index, id, options.notAfter)),
      );
      return { cursor: next, scanned: ids.length, removed: dropped.filter(Boolean).length };
    });
  }

  /** A lease on the conversation: its token when acquired, undefined while someone else holds it. */
  async acquireLock(id: string, ttlMs: number): Promise<string | undefined> {
    requirePositiveInteger(ttlMs, 'ttlMs');
    return this.call('acquireLock', id, () => this.lock(id, ttlMs).acquire());
  }

  /** Frees the lock if `token` still holds it; false when the lease had run out. */
  async releaseLock(id: string, token: string): Promise<boolean> {
    // Releasing needs no lease length.
    return this.call('releaseLock', id, () => this.lock(id, 0).release(token));
  }

  private lock(id: string, ttlMs: number): LeaseLock {
    return new LeaseLock(this.redis, this.keys.lock(id), ttlMs);
  }

  /**
   * Runs `work` holding the conversation's lock, waiting up to `waitMs` (default: one lease)
   * for another holder. The lease is not extended: `work` must finish within `ttlMs`.
   */
  async withLock<T>(
    id: string,
    ttlMs: number,
    work: () => Promise<T>,
    options: { waitMs?: number } = {},
  ): Promise<T> {
    const waitMs = options.waitMs ?? ttlMs;
    const started = Date.now();
    let token = await this.acquireLock(id, ttlMs);
    while (token === undefined) {
      if (Date.now() - started >= waitMs) throw new ConversationLockTimeoutError(id, waitMs);
      await delay(LOCK_RETRY_DELAY_MS / 2 + Math.random() * LOCK_RETRY_DELAY_MS);
      token = await this.acquireLock(id, ttlMs);
    }
    try {
      return await work();
    } finally {
      await this.releaseQuietly(id, token, ttlMs);
    }
  }

  /** A failed release must not hide the outcome of the work; the lease runs out anyway. */
  private async releaseQuietly(id: string, token: string, ttlMs: number): Promise<void> {
    try {
      if (!(await this.releaseLock(id, token))) {
        this.logger.warn({ conversationId: id, ttlMs }, 'conversation lock expired before release');
      }
    } catch (error) {
      this.logger.warn(
        { conversationId: id, reason: error instanceof Error ? error.message : 'unknown' },
        'conversation lock not released; its lease will run out',
      );
    }
  }

  /** The token pair sealed for the conversation, as hex for a script's JSON arguments. */
  private sealCredentials(id: string, tokens: TokenPair): string {
    return this.cipher
      .encrypt(
        packTokens({
          participantToken: tokens.participantToken,
          connectionToken: tokens.connectionToken,
        }),
        credentialsContext(id),
      )
      .toString('hex');
  }

  private openCredentials(id: string, stored: Buffer): TokenPair {
    const tokens = unpackTokens(this.cipher.decrypt(stored, credentialsContext(id)));
    if (!tokens) throw new CorruptConversationError(id, 'the stored tokens are malformed');
    return tokens;
  }

  /** The tokens hash the previous version wrote; undefined when there is none. */
  private openLegacyTokens(id: string, hash: Record<string, string>): TokenPair | undefined {
    const participantToken = hash[TOKENS.participantToken];
    const connectionToken = hash[TOKENS.connectionToken];
    if (!participantToken || !connectionToken) return undefined;
    return {
      participantToken: this.cipher.decryptText(
        participantToken,
        tokenContext(id, 'participantToken'),
      ),
      connectionToken: this.cipher.decryptText(
        connectionToken,
        tokenContext(id, 'connectionToken'),
      ),
    };
  }

  private indexKey(index: ConversationIndex): string {
    return index === 'activity' ? this.keys.byActivity() : this.keys.byCredentialExpiry();
  }

  private async dropIfStale(
    index: ConversationIndex,
    id: string,
    notAfter: number,
  ): Promise<boolean> {
    const result = await DROP_STALE_INDEX_ENTRY.run(
      this.redis,
      [this.keys.record(id), this.indexKey(index)],
      [id, String(notAfter)],
    );
    return result === APPLIED;
  }

  /** [id, score] pairs of `index` scored in (after, before), lowest first. */
  private async scoredPage(
    operation: string,
    index: ConversationIndex,
    page: { before: number; limit: number; after?: number },
  ): Promise<[string, number][]> {
    if (!Number.isFinite(page.before)) throw new Error('epochMs must be a number');
    if (page.after !== undefined && !Number.isFinite(page.after)) {
      throw new Error('after must be a number');
    }
    requirePositiveInteger(page.limit, 'limit');
    const flat = await this.call(operation, undefined, () =>
      this.redis.zrangebyscore(
        this.indexKey(index),
        page.after === undefined ? '-inf' : `(${page.after}`,
        `(${page.before}`,
        'WITHSCORES',
        'LIMIT',
        0,
        page.limit,
      ),
    );
    const entries: [string, number][] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push([flat[i], Number(flat[i + 1])]);
    return entries;
  }

  private async retryOnStaleRead(
    operation: string,
    id: string,
    attempt: () => Promise<unknown>,
  ): Promise<unknown> {
    for (let tries = 0; tries < MAX_STALE_READ_ATTEMPTS; tries += 1) {
      const result = await this.call(operation, id, attempt);
      if (result !== STALE_READ) return result;
    }
    throw new ConversationStoreError(operation, id, 'concurrent writes kept changing the record');
  }

  private async call<T>(operation: string, id: string | undefined, run: () => Promise<T>) {
    try {
      return await run();
    } catch (error) {
      throw new ConversationStoreError(
        operation,
        id,
        error instanceof Error ? error.message : 'unknown error',
      );
    }
  }
}

function requireText<T extends object>(values: T, names: (keyof T & string)[]): void {
  for (const name of names) {
    const value = values[name];
    if (typeof value !== 'string' || value.length === 0) throw new Error(`${name} is required`);
  }
}

function requireEpochMs(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be epoch ms`);
}

function requirePositiveInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer`);
  }
}
