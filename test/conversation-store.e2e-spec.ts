import { MetricsModule } from '../src/ops/metrics.module';
import { createCipheriv, createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { AppConfig, ConfigModule } from '../src/config';
import {
  type ActiveConversation,
  type ContactDetails,
  type ConversationKey,
  ConversationLockTimeoutError,
  ConversationsModule,
  ConversationStore,
  ConversationStoreError,
  ConversationTrace,
  type StreamContactLookup,
  SUPERSEDED_CONTACT_GRACE_SECONDS,
  TRACE_MAX_EVENTS,
  TRACE_TTL_SECONDS,
  TokenCipher,
} from '../src/conversations';
import { RedisConnections, RedisModule } from '../src/redis';
import { bridgeEnv, sharedRedisUrl } from './support/env';

interface Fixture {
  store: ConversationStore;
  trace: ConversationTrace;
  cipher: TokenCipher;
  /** The hash-tagged prefix of every key this fixture writes, e.g. `{convstore1a2b3c4d}`. */
  prefix: string;
  /** TOKEN_ENCRYPTION_KEY, when encrypted. */
  key?: Buffer;
}

const modules: TestingModule[] = [];
const reader = new Redis(sharedRedisUrl());

/** The real module graph on the shared redis-server, under a prefix of its own. */
async function openStore(options: { encrypted: boolean; keyPrefix?: string }): Promise<Fixture> {
  const keyPrefix = options.keyPrefix ?? `convstore${randomBytes(4).toString('hex')}`;
  const key = options.encrypted ? randomBytes(32) : undefined;
  const config = AppConfig.fromEnv(
    bridgeEnv({ REDIS_KEY_PREFIX: keyPrefix, TOKEN_ENCRYPTION_KEY: key?.toString('base64') }),
  );
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), RedisModule, MetricsModule, ConversationsModule],
  }).compile();
  modules.push(moduleRef);
  // The request connection has no offline queue: wait until it is up.
  const client = moduleRef.get(RedisConnections).client;
  if (client.status !== 'ready') await once(client, 'ready');
  return {
    store: moduleRef.get(ConversationStore),
    trace: moduleRef.get(ConversationTrace),
    cipher: moduleRef.get(TokenCipher),
    prefix: `{${keyPrefix}}`,
    key,
  };
}

/**
 * Stores the conversation's tokens as the previous version did: a hash of two tokens, each
 * `v1:` + base64url(iv ‖ tag ‖ AES-256-GCM ciphertext) with a key, as they are without.
 */
async function storeAsPreviousVersion(
  { prefix, key }: Fixture,
  id: string,
  tokens: { participantToken: string; connectionToken: string },
) {
  const seal = (token: string, field: string) => {
    if (!key) return token;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(`conversation:${id}:${field}`));
    const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url')}`;
  };
  await reader.del(`${prefix}:conv:${id}:creds`);
  await reader.hset(`${prefix}:conv:${id}:tokens`, {
    p: seal(tokens.participantToken, 'participantToken'),
    c: seal(tokens.connectionToken, 'connectionToken'),
  });
}

afterAll(async () => {
  await Promise.all(modules.map((moduleRef) => moduleRef.close()));
  await reader.quit();
});

const phone = () => `+1555${randomInt(1_000_000, 9_999_999)}`;
const conversationKey = (overrides: Partial<ConversationKey> = {}): ConversationKey => ({
  channel: 'whatsapp',
  customerAddress: `whatsapp:${phone()}`,
  businessAddress: 'whatsapp:+15550001111',
  ...overrides,
});
/** The emulator's token shape: 48 random bytes, base64url. */
const emulatorToken = () => randomBytes(48).toString('base64url');
/** The size of a real Connect ParticipantToken (612 base64 characters in AWS' own example). */
const connectSizedToken = () => randomBytes(459).toString('base64');

const contact = (overrides: Partial<ContactDetails> = {}): ContactDetails => {
  const initialContactId = randomUUID();
  return {
    initialContactId,
    contactId: initialContactId,
    participantId: randomUUID(),
    participantToken: `pt-${emulatorToken()}`,
    connectionToken: `ct-${emulatorToken()}`,
    connectionExpiresAt: Date.now() + 86_400_000,
    ...overrides,
  };
};

async function saveNew(
  store: ConversationStore,
  keyOverrides: Partial<ConversationKey> = {},
  contactOverrides: Partial<ContactDetails> = {},
) {
  const key = conversationKey(keyOverrides);
  const id = store.conversationId(key);
  const details = contact(contactOverrides);
  await store.saveContact(id, key, details);
  return { id, key, details };
}

async function getActive(store: ConversationStore, id: string): Promise<ActiveConversation> {
  const conversation = await store.get(id);
  if (conversation?.state !== 'active') {
    throw new Error(`expected an active conversation, got ${conversation?.state}`);
  }
  return conversation;
}

/** A refresh as the conversation service makes it: the participant's tokens, a new ConnectionToken. */
function refresh(
  store: ConversationStore,
  id: string,
  details: ContactDetails,
  connectionToken: string,
  connectionExpiresAt: number,
): Promise<boolean> {
  return store.updateCredentials(id, { ...details, connectionToken, connectionExpiresAt });
}

async function keysUnder(prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await reader.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found.sort();
}

/** Every string stored under the prefix: key names, values, hash fields, set and zset members. */
async function everythingUnder(prefix: string): Promise<string> {
  const parts: string[] = [];
  for (const key of await keysUnder(prefix)) {
    parts.push(key);
    const type = await reader.type(key);
    if (type === 'string') parts.push((await reader.get(key)) ?? '');
    if (type === 'hash') parts.push(...Object.entries(await reader.hgetall(key)).flat());
    if (type === 'zset') parts.push(...(await reader.zrange(key, 0, -1)));
    if (type === 'list') parts.push(...(await reader.lrange(key, 0, -1)));
  }
  return parts.join('\n');
}

describe('ConversationStore on Redis', () => {
  let encrypted: Fixture;
  let plain: Fixture;

  beforeAll(async () => {
    [encrypted, plain] = await Promise.all([
      openStore({ encrypted: true }),
      openStore({ encrypted: false }),
    ]);
  });

  describe('conversation id', () => {
    it('is the first 32 hex digits of SHA-256 over the three parts, the same on every replica', () => {
      const key = conversationKey();
      const expected = createHash('sha256')
        .update(JSON.stringify([key.channel, key.customerAddress, key.businessAddress]))
        .digest('hex')
        .slice(0, 32);
      expect(encrypted.store.conversationId(key)).toBe(expected);
      expect(plain.store.conversationId({ ...key })).toBe(expected);
      expect(expected).toMatch(/^[0-9a-f]{32}$/);
    });

    it('changes with any part and cannot be forged by moving a separator', () => {
      const store = encrypted.store;
      const key = conversationKey();
      const id = store.conversationId(key);
      expect(store.conversationId({ ...key, channel: 'sms' })).not.toBe(id);
      expect(store.conversationId({ ...key, customerAddress: phone() })).not.toBe(id);
      expect(store.conversationId({ ...key, businessAddress: '+15550002222' })).not.toBe(id);
      expect(
        store.conversationId({ channel: 'a:b', customerAddress: 'c', businessAddress: 'd' }),
      ).not.toBe(
        store.conversationId({ channel: 'a', customerAddress: 'b:c', businessAddress: 'd' }),
      );
    });
  });

  describe('save and get', () => {
    it('round-trips a contact with its tokens decrypted', async () => {
      const before = Date.now();
      const { id, key, details } = await saveNew(encrypted.store, {}, { displayName: 'Ada' });
      const conversation = await getActive(encrypted.store, id);
      expect(conversation).toEqual({
        id,
        ...key,
        displayName: 'Ada',
        state: 'active',
        initialContactId: details.initialContactId,
        contactId: details.contactId,
        contactIds: [details.initialContactId],
        participantId: details.participantId,
        participantToken: details.participantToken,
        connectionToken: details.connectionToken,
        connectionExpiresAt: details.connectionExpiresAt,
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
      });
      expect(conversation.createdAt).toBeGreaterThanOrEqual(before);
      const { participantToken: _p, connectionToken: _c, ...withoutTokens } = conversation;
      const view = await encrypted.store.view(id);
      expect(view).toEqual(withoutTokens);
      expect(JSON.stringify(view)).not.toContain(details.participantToken);
      expect(JSON.stringify(view)).not.toContain(details.connectionToken);
      expect(conversation.updatedAt).toBeGreaterThanOrEqual(conversation.createdAt);
      expect(await encrypted.store.get(randomBytes(16).toString('hex'))).toBeUndefined();
    });

    it('keeps only ciphertext in Redis when a key is configured, both tokens in one value', async () => {
      const { id, details } = await saveNew(encrypted.store);
      const stored = await reader.getBuffer(`${encrypted.prefix}:conv:${id}:creds`);
      expect(stored?.subarray(0, 3).toString()).toBe('v2:');
      // v2: ‖ IV ‖ tag ‖ flags, length and the two tokens as UTF-8 (not base64 here).
      expect(stored).toHaveLength(
        3 + 12 + 16 + 5 + details.participantToken.length + details.connectionToken.length,
      );
      expect(await reader.exists(`${encrypted.prefix}:conv:${id}:tokens`)).toBe(0);
      const everything = await everythingUnder(encrypted.prefix);
      expect(everything).toContain(details.initialContactId);
      expect(everything).not.toContain(details.participantToken);
      expect(everything).not.toContain(details.connectionToken);
    });

    it('stores the tokens of Connect’s shape decoded, and gets them back exactly', async () => {
      for (const fixture of [encrypted, plain]) {
        const tokens = {
          participantToken: connectSizedToken(),
          connectionToken: `ct-${emulatorToken()}`,
        };
        const { id } = await saveNew(fixture.store, {}, tokens);
        expect(await getActive(fixture.store, id)).toMatchObject(tokens);
        const stored = await reader.getBuffer(`${fixture.prefix}:conv:${id}:creds`);
        expect(stored).toHaveLength(
          (fixture.key ? 31 : 0) + 5 + 459 + Buffer.byteLength(tokens.connectionToken),
        );
      }
    });

    it('stores tokens as they are without a key', async () => {
      const { id, details } = await saveNew(plain.store);
      const participant = Buffer.from(details.participantToken);
      const header = Buffer.alloc(5);
      header.writeUInt32BE(participant.length, 1);
      expect(await reader.getBuffer(`${plain.prefix}:conv:${id}:creds`)).toEqual(
        Buffer.concat([header, participant, Buffer.from(details.connectionToken)]),
      );
      expect((await getActive(plain.store, id)).connectionToken).toBe(details.connectionToken);
    });

    it('refuses tokens tampered with or copied onto another conversation', async () => {
      const first = await saveNew(encrypted.store);
      const second = await saveNew(encrypted.store);
      const credentials = (id: string) => `${encrypted.prefix}:conv:${id}:creds`;
      const stolen = await reader.getBuffer(credentials(first.id));
      await reader.set(credentials(second.id), stolen!);
      await expect(encrypted.store.get(second.id)).rejects.toThrow(/cannot decrypt/);

      const tampered = Buffer.from(stolen!);
      tampered[tampered.length - 1] ^= 0x01;
      await reader.set(credentials(first.id), tampered);
      await expect(encrypted.store.get(first.id)).rejects.toThrow(/cannot decrypt/);

      // Support still sees both: the lookups do not open tokens.
      expect((await encrypted.store.view(first.id))?.contactId).toBe(first.details.contactId);
      expect((await encrypted.store.findByContactId(second.details.contactId))?.id).toBe(second.id);
      expect((await encrypted.store.findByCustomer(first.key.customerAddress))[0]?.id).toBe(
        first.id,
      );
    });

    it('names neither token nor address when Redis refuses a write', async () => {
      const { id, key } = await saveNew(plain.store);
      await reader.del(`${plain.prefix}:conv:by-customer:${key.customerAddress}`);
      await reader.set(`${plain.prefix}:conv:by-customer:${key.customerAddress}`, 'not a hash');
      const details = contact();
      const failure = await plain.store.saveContact(id, key, details).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ConversationStoreError);
      const serialized = `${String(failure)} ${JSON.stringify(failure)}`;
      expect(serialized).toContain(id);
      expect(serialized).toContain('WRONGTYPE');
      expect(serialized).not.toContain(details.participantToken);
      expect(serialized).not.toContain(details.connectionToken);
      expect(serialized).not.toContain(key.customerAddress.slice(-7));
    });

    it('refuses an id that does not belong to the key', async () => {
      const key = conversationKey();
      await expect(
        encrypted.store.saveContact(randomBytes(16).toString('hex'), key, contact()),
      ).rejects.toThrow(/does not belong/);
    });
  });

  describe('lookups', () => {
    it('finds a conversation by InitialContactId and by a ContactId a transfer added', async () => {
      const store = encrypted.store;
      const { id, details } = await saveNew(store);
      expect((await store.findByContactId(details.initialContactId))?.id).toBe(id);

      const transferred = randomUUID();
      expect(await store.findByContactId(transferred)).toBeUndefined();
      expect(await store.addContactId(id, transferred)).toBe(true);
      const found = await store.findByContactId(transferred);
      expect(found).toMatchObject({
        id,
        initialContactId: details.initialContactId,
        contactId: transferred,
      });
      expect(found?.contactIds.sort()).toEqual([details.initialContactId, transferred].sort());
      expect((await store.findByContactId(details.initialContactId))?.contactId).toBe(transferred);
      expect(await store.addContactId(randomBytes(16).toString('hex'), randomUUID())).toBe(false);
    });

    it('finds a customer’s conversations across channels, or on one channel', async () => {
      const store = encrypted.store;
      const address = phone();
      const sms = await saveNew(store, { channel: 'sms', customerAddress: address });
      const generic = await saveNew(store, { channel: 'generic', customerAddress: address });
      await saveNew(store, { channel: 'sms' });

      const all = await store.findByCustomer(address);
      expect(all.map((c) => c.id).sort()).toEqual([sms.id, generic.id].sort());
      expect(all[0].updatedAt).toBeGreaterThanOrEqual(all[1].updatedAt);
      expect((await store.findByCustomer(address, 'sms')).map((c) => c.id)).toEqual([sms.id]);
      expect(await store.findByCustomer(address, 'whatsapp')).toEqual([]);
      expect(await store.findByCustomer(phone())).toEqual([]);
    });
  });

  describe('credential schedule', () => {
    let store: ConversationStore;
    let prefix: string;
    beforeAll(async () => {
      ({ store, prefix } = await openStore({ encrypted: true }));
    });

    it('orders conversations by connection expiry and answers those expiring before a time', async () => {
      const t = Date.now() + 3_600_000;
      const late = await saveNew(store, {}, { connectionExpiresAt: t + 3_000 });
      const soon = await saveNew(store, {}, { connectionExpiresAt: t + 1_000 });
      const middle = await saveNew(store, {}, { connectionExpiresAt: t + 2_000 });

      expect(await reader.zrange(`${prefix}:conv:by-credential-expiry`, 0, -1)).toEqual([
        soon.id,
        middle.id,
        late.id,
      ]);
      expect(await store.credentialsExpiringBefore(t + 2_500, 10)).toEqual([
        { conversationId: soon.id, connectionExpiresAt: t + 1_000 },
        { conversationId: middle.id, connectionExpiresAt: t + 2_000 },
      ]);
      expect(await store.credentialsExpiringBefore(t + 2_500, 1)).toEqual([
        { conversationId: soon.id, connectionExpiresAt: t + 1_000 },
      ]);
      expect(await store.credentialsExpiringBefore(t + 1_000, 10)).toEqual([]);

      const refreshedToken = `ct-${emulatorToken()}`;
      expect(await refresh(store, soon.id, soon.details, refreshedToken, t + 5_000)).toBe(true);
      expect(
        (await store.credentialsExpiringBefore(t + 10_000, 10)).map((due) => due.conversationId),
      ).toEqual([middle.id, late.id, soon.id]);
      const refreshed = await getActive(store, soon.id);
      expect(refreshed.connectionToken).toBe(refreshedToken);
      expect(refreshed.connectionExpiresAt).toBe(t + 5_000);
      expect(refreshed.participantToken).toBe(soon.details.participantToken);
    });

    it('ignores a refresh meant for another participant', async () => {
      const { id, details } = await saveNew(store);
      const applied = await store.updateCredentials(id, {
        participantId: randomUUID(),
        participantToken: 'pt-other',
        connectionToken: 'ct-stale',
        connectionExpiresAt: Date.now() + 1,
      });
      expect(applied).toBe(false);
      const unchanged = await getActive(store, id);
      expect(unchanged.participantToken).toBe(details.participantToken);
      expect(unchanged.connectionToken).toBe(details.connectionToken);
      expect(unchanged.connectionExpiresAt).toBe(details.connectionExpiresAt);
      expect(await refresh(store, id, details, 'ct-fresh', Date.now() + 5)).toBe(true);
    });
  });

  describe('markEnded', () => {
    let store: ConversationStore;
    let prefix: string;
    beforeAll(async () => {
      ({ store, prefix } = await openStore({ encrypted: true }));
    });
    const contactKey = (contactId: string) => `${prefix}:conv:by-contact:${contactId}`;

    it('keeps the contact index for the grace period and leaves the credential schedule', async () => {
      const { id, key, details } = await saveNew(store);
      const transferred = randomUUID();
      await store.addContactId(id, transferred);
      expect(await reader.ttl(contactKey(details.initialContactId))).toBe(-1);
      expect(await reader.zscore(`${prefix}:conv:by-credential-expiry`, id)).not.toBeNull();

      expect(await store.markEnded(id, { graceSeconds: 120 })).toBe(true);

      for (const contactId of [details.initialContactId, transferred]) {
        const ttl = await reader.ttl(contactKey(contactId));
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(120);
      }
      expect(await reader.zscore(`${prefix}:conv:by-credential-expiry`, id)).toBeNull();
      expect(await store.credentialsExpiringBefore(Number.MAX_SAFE_INTEGER, 100)).toEqual([]);
      expect(await reader.exists(`${prefix}:conv:${id}:creds`)).toBe(0);

      const ended = await store.findByContactId(transferred);
      expect(ended).toMatchObject({
        id,
        ...key,
        state: 'ended',
        initialContactId: details.initialContactId,
        lastEndedInitialContactId: details.initialContactId,
        endedAt: expect.any(Number),
        contactIds: [],
      });
      expect(ended).not.toHaveProperty('participantToken');
      expect(ended).not.toHaveProperty('connectionToken');
      expect(ended).not.toHaveProperty('connectionExpiresAt');

      // A duplicate chat.ended and a refresh that lost the race change nothing.
      expect(await store.markEnded(id, { graceSeconds: 120 })).toBe(false);
      expect(await refresh(store, id, details, 'ct-late', Date.now() + 60_000)).toBe(false);
      expect(await reader.zscore(`${prefix}:conv:by-credential-expiry`, id)).toBeNull();
    });

    it('starts the next contact on the same conversation and remembers the ended one', async () => {
      const { id, key, details: first } = await saveNew(store);
      await store.markEnded(id, { graceSeconds: 300 });
      const second = contact();
      await store.saveContact(id, key, second);

      const conversation = await getActive(store, id);
      expect(conversation).toMatchObject({
        initialContactId: second.initialContactId,
        lastEndedInitialContactId: first.initialContactId,
        contactIds: [second.initialContactId],
        participantToken: second.participantToken,
      });
      expect(await reader.ttl(contactKey(second.initialContactId))).toBe(-1);
      expect(await reader.ttl(contactKey(first.initialContactId))).toBeGreaterThan(0);
      expect((await store.findByContactId(first.initialContactId))?.id).toBe(id);
    });

    it('remembers a contact that ended before its chat-ended item, through the next contact, until the item arrives', async () => {
      const { id, key, details: first } = await saveNew(store);
      await store.markEnded(id, { graceSeconds: 300, endItemPending: true });
      expect(await store.get(id)).toMatchObject({ state: 'ended', endItemPending: true });
      await store.saveContact(id, key, contact());
      expect(await getActive(store, id)).toMatchObject({
        lastEndedInitialContactId: first.initialContactId,
        endItemPending: true,
      });

      await store.endItemArrived(id, 'another-contact');
      expect((await store.get(id))?.endItemPending).toBe(true);
      await store.endItemArrived(id, first.initialContactId);
      expect(await store.get(id)).not.toHaveProperty('endItemPending');

      // A contact ended by its own item leaves nothing pending.
      const again = await saveNew(store);
      await store.markEnded(again.id, { graceSeconds: 300, endItemPending: true });
      await store.saveContact(again.id, again.key, contact());
      await store.markEnded(again.id, { graceSeconds: 300 });
      expect(await store.get(again.id)).not.toHaveProperty('endItemPending');
    });

    it('keeps a replaced live contact indexed for a while only', async () => {
      const { id, key, details: first } = await saveNew(store);
      await store.saveContact(id, key, contact(), { supersededGraceSeconds: 60 });
      const ttl = await reader.ttl(contactKey(first.initialContactId));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60);
      expect((await store.get(id))?.contactIds).toHaveLength(1);

      // Saving the same contact again leaves its index alone.
      const { id: other, key: otherKey, details } = await saveNew(store);
      await store.saveContact(other, otherKey, { ...details, connectionToken: 'ct-again' });
      expect(await reader.ttl(contactKey(details.initialContactId))).toBe(-1);
      expect(SUPERSEDED_CONTACT_GRACE_SECONDS).toBeGreaterThan(0);
    });
  });

  describe('tokens the previous version stored (a hash of two sealed values)', () => {
    it.each([
      ['encrypted', () => encrypted],
      ['plain', () => plain],
    ])('reads them (%s), and the next write replaces them', async (_mode, fixture) => {
      const { store, prefix } = fixture();
      const { id, key, details } = await saveNew(store);
      await storeAsPreviousVersion(fixture(), id, details);
      const legacy = `${prefix}:conv:${id}:tokens`;
      expect(await getActive(store, id)).toMatchObject({
        participantToken: details.participantToken,
        connectionToken: details.connectionToken,
      });
      expect((await store.findByContactId(details.initialContactId))?.id).toBe(id);

      expect(await refresh(store, id, details, 'ct-refreshed', Date.now() + 60_000)).toBe(true);
      expect(await reader.exists(legacy)).toBe(0);
      expect(await getActive(store, id)).toMatchObject({
        participantToken: details.participantToken,
        connectionToken: 'ct-refreshed',
      });

      await storeAsPreviousVersion(fixture(), id, details);
      const next = contact();
      await store.saveContact(id, key, { ...details, ...next });
      expect(await reader.exists(legacy)).toBe(0);
      expect(await getActive(store, id)).toMatchObject({
        participantToken: next.participantToken,
        connectionToken: next.connectionToken,
      });
    });

    it('are deleted when the contact ends', async () => {
      const { store, prefix } = encrypted;
      const { id, details } = await saveNew(store);
      await storeAsPreviousVersion(encrypted, id, details);
      expect(await store.markEnded(id, { graceSeconds: 60 })).toBe(true);
      expect(await reader.exists(`${prefix}:conv:${id}:tokens`, `${prefix}:conv:${id}:creds`)).toBe(
        0,
      );
      expect(await store.get(id)).toMatchObject({ state: 'ended' });
    });

    it('are refused when tampered with', async () => {
      const { store, prefix } = encrypted;
      const { id, details } = await saveNew(store);
      await storeAsPreviousVersion(encrypted, id, details);
      const sealed = await reader.hget(`${prefix}:conv:${id}:tokens`, 'c');
      await reader.hset(`${prefix}:conv:${id}:tokens`, 'c', `${sealed!.slice(0, -2)}AA`);
      await expect(store.get(id)).rejects.toThrow(/cannot decrypt/);
    });
  });

  describe('stream lookups while a contact starts', () => {
    it('finds the start marker until saveContact indexes the contact and removes the marker', async () => {
      const { store, prefix } = encrypted;
      const key = conversationKey();
      const id = store.conversationId(key);
      const details = contact();
      const { initialContactId } = details;
      expect(await store.lookUpStreamContact(initialContactId, initialContactId)).toEqual({
        contactIdIndexed: false,
      });
      await store.markStarting(id, initialContactId);
      expect(await store.lookUpStreamContact(initialContactId, initialContactId)).toEqual({
        contactIdIndexed: false,
        startingConversationId: id,
      });
      await store.saveContact(id, key, details);
      expect(await reader.exists(`${prefix}:conv:starting:${initialContactId}`)).toBe(0);
      expect(await store.lookUpStreamContact(initialContactId, initialContactId)).toEqual({
        conversationId: id,
        contactIdIndexed: true,
      });
      const transferred = randomUUID();
      expect(await store.lookUpStreamContact(initialContactId, transferred)).toEqual({
        conversationId: id,
        contactIdIndexed: false,
      });
      await store.addContactId(id, transferred);
      expect(await store.lookUpStreamContact(randomUUID(), transferred)).toEqual({
        conversationId: id,
        contactIdIndexed: true,
      });
    });

    it('never finds neither index nor marker while saveContact runs', async () => {
      const { store } = encrypted;
      for (let round = 0; round < 20; round += 1) {
        const key = conversationKey();
        const id = store.conversationId(key);
        const details = contact();
        await store.markStarting(id, details.initialContactId);
        let saved = false;
        const saving = store.saveContact(id, key, details).then(() => (saved = true));
        const found: StreamContactLookup[] = [];
        while (!saved) {
          found.push(
            ...(await Promise.all(
              Array.from({ length: 5 }, () =>
                store.lookUpStreamContact(details.initialContactId, details.contactId),
              ),
            )),
          );
        }
        await saving;
        for (const lookup of found) {
          expect(lookup.conversationId ?? lookup.startingConversationId).toBe(id);
        }
      }
    });
  });

  describe('lock', () => {
    it('excludes a second holder and frees only for its own token', async () => {
      const store = encrypted.store;
      const id = randomBytes(16).toString('hex');
      const token = await store.acquireLock(id, 10_000);
      expect(token).toEqual(expect.any(String));
      const pttl = await reader.pttl(`${encrypted.prefix}:conv:${id}:lock`);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(10_000);

      expect(await store.acquireLock(id, 10_000)).toBeUndefined();
      expect(await store.releaseLock(id, randomUUID())).toBe(false);
      expect(await store.acquireLock(id, 10_000)).toBeUndefined();
      expect(await store.releaseLock(id, token!)).toBe(true);
      const next = await store.acquireLock(id, 10_000);
      expect(next).toEqual(expect.any(String));
      expect(next).not.toBe(token);
      expect(await store.releaseLock(id, token!)).toBe(false);
      expect(await store.releaseLock(id, next!)).toBe(true);
    });

    it('runs withLock sections one at a time', async () => {
      const store = encrypted.store;
      const id = randomBytes(16).toString('hex');
      const order: string[] = [];
      let openGate!: () => void;
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      let waitedTwice!: () => void;
      const secondHasWaited = new Promise<void>((resolve) => (waitedTwice = resolve));
      const acquire = store.acquireLock.bind(store);
      let attempts = 0;
      const spy = jest.spyOn(store, 'acquireLock').mockImplementation(async (...args) => {
        const token = await acquire(...args);
        attempts += 1;
        if (attempts >= 3 && token === undefined) waitedTwice();
        return token;
      });
      try {
        const first = store.withLock(id, 10_000, async () => {
          order.push('first in');
          await gate;
          order.push('first out');
          return 1;
        });
        const second = store.withLock(id, 10_000, () => {
          order.push('second in');
          return Promise.resolve(2);
        });
        await secondHasWaited;
        expect(order).toEqual(['first in']);
        openGate();
        expect(await Promise.all([first, second])).toEqual([1, 2]);
        expect(order).toEqual(['first in', 'first out', 'second in']);
      } finally {
        spy.mockRestore();
      }
    });

    it('gives up after waitMs and releases when the work throws', async () => {
      const store = encrypted.store;
      const id = randomBytes(16).toString('hex');
      const held = await store.acquireLock(id, 10_000);
      const work = jest.fn(() => Promise.resolve('never'));
      await expect(store.withLock(id, 10_000, work, { waitMs: 150 })).rejects.toBeInstanceOf(
        ConversationLockTimeoutError,
      );
      expect(work).not.toHaveBeenCalled();
      await store.releaseLock(id, held!);

      await expect(
        store.withLock(id, 10_000, () => Promise.reject(new Error('work failed'))),
      ).rejects.toThrow('work failed');
      expect(await reader.exists(`${encrypted.prefix}:conv:${id}:lock`)).toBe(0);
    });
  });

  describe('trace', () => {
    it(`keeps the last ${TRACE_MAX_EVENTS} events, oldest first`, async () => {
      const { trace } = encrypted;
      const id = randomBytes(16).toString('hex');
      for (let part = 1; part <= TRACE_MAX_EVENTS + 5; part += 1) {
        await trace.append(id, { event: 'sent', part, providerMessageId: `SM${part}` });
      }
      const events = await trace.list(id);
      expect(events).toHaveLength(TRACE_MAX_EVENTS);
      expect(events[0]).toMatchObject({ event: 'sent', part: 6, providerMessageId: 'SM6' });
      expect(events[TRACE_MAX_EVENTS - 1].part).toBe(TRACE_MAX_EVENTS + 5);
      expect(await reader.llen(`${encrypted.prefix}:conv:${id}:trace`)).toBe(TRACE_MAX_EVENTS);
    });

    it('expires, and every write pushes the expiry back', async () => {
      const { trace } = encrypted;
      const id = randomBytes(16).toString('hex');
      const key = `${encrypted.prefix}:conv:${id}:trace`;
      await trace.append(id, { event: 'received', providerMessageId: 'SM1' });
      const ttl = await reader.ttl(key);
      expect(ttl).toBeGreaterThan(TRACE_TTL_SECONDS - 60);
      expect(ttl).toBeLessThanOrEqual(TRACE_TTL_SECONDS);
      await reader.expire(key, 30);
      await trace.append(id, { event: 'contact-started', contactId: randomUUID() });
      expect(await reader.ttl(key)).toBeGreaterThan(TRACE_TTL_SECONDS - 60);
      expect(await trace.list(randomBytes(16).toString('hex'))).toEqual([]);
    });

    it('stores only trace fields, with phone numbers masked', async () => {
      const { trace } = encrypted;
      const id = randomBytes(16).toString('hex');
      const leaky = {
        event: 'failed',
        at: 1_700_000_000_000,
        reason: 'Twilio refused +15551234567: invalid number',
        address: 'whatsapp:+447700900123',
        attempt: 3,
        connectionToken: 'ct-must-not-be-stored',
        customerAddress: '+15557654321',
      } as const;
      await trace.append(id, leaky);
      const raw = await reader.lrange(`${encrypted.prefix}:conv:${id}:trace`, 0, -1);
      expect(raw.join()).not.toMatch(/ct-must-not-be-stored|5551234567|7700900123|5557654321/);
      expect(await trace.list(id)).toEqual([
        {
          at: 1_700_000_000_000,
          event: 'failed',
          reason: 'Twilio refused +15******567: invalid number',
          address: 'whatsapp:+44*******123',
          attempt: 3,
        },
      ]);
    });
  });

  describe('trace entries', () => {
    const full = {
      at: 1_700_000_000_000,
      event: 'sent',
      direction: 'inbound',
      providerMessageId: 'SM123',
      connectMessageId: 'c0ffee',
      contactId: 'contact-1',
      part: 2,
      parts: 3,
      attempt: 1,
      reason: 'why',
      status: 'delivered',
      address: '+44*******123',
    } as const;

    it('are stored under short names and read back with the full ones', async () => {
      const { trace, prefix } = encrypted;
      const id = randomBytes(16).toString('hex');
      await trace.append(id, { ...full, address: 'whatsapp:+447700900123' });
      const [raw] = await reader.lrange(`${prefix}:conv:${id}:trace`, 0, -1);
      expect(JSON.parse(raw)).toEqual({
        t: 1_700_000_000_000,
        e: 'sent',
        d: 'inbound',
        pm: 'SM123',
        cm: 'c0ffee',
        c: 'contact-1',
        p: 2,
        n: 3,
        a: 1,
        r: 'why',
        s: 'delivered',
        ad: 'whatsapp:+44*******123',
      });
      expect(await trace.list(id)).toEqual([{ ...full, address: 'whatsapp:+44*******123' }]);
    });

    it('written with full names by earlier versions read as they are, among newer ones', async () => {
      const { trace, prefix } = encrypted;
      const id = randomBytes(16).toString('hex');
      await reader.rpush(`${prefix}:conv:${id}:trace`, JSON.stringify(full), 'not json', '[1]');
      await trace.append(id, { at: 1_700_000_000_001, event: 'delivered', part: 1 });
      expect(await trace.list(id)).toEqual([
        full,
        { at: 1_700_000_000_001, event: 'delivered', part: 1 },
      ]);
    });
  });

  describe('memory', () => {
    /** A conversation as its first message leaves it: contact started, message sent. */
    // A prefix as long as the default `csb`, so the figures are those of a deployment.
    async function idleFootprint(keyPrefix: string, token: () => string) {
      const { store, trace, prefix } = await openStore({ encrypted: true, keyPrefix });
      const key = conversationKey();
      const id = store.conversationId(key);
      const details = contact({
        displayName: 'Ada Lovelace',
        participantToken: token(),
        connectionToken: token(),
      });
      const providerMessageId = `SM${randomBytes(16).toString('hex')}`;
      await trace.append(id, { event: 'received', direction: 'inbound', providerMessageId });
      await store.markStarting(id, details.initialContactId);
      await store.saveContact(id, key, details);
      await trace.append(id, {
        event: 'contact-started',
        contactId: details.initialContactId,
        providerMessageId,
      });
      await trace.append(id, {
        event: 'sent',
        direction: 'inbound',
        providerMessageId,
        connectMessageId: randomUUID(),
        contactId: details.initialContactId,
        part: 1,
        parts: 1,
      });
      const perKey: Record<string, number> = {};
      for (const redisKey of await keysUnder(prefix)) {
        const shape = redisKey
          .slice(prefix.length + 1)
          .replace(id, '<id>')
          .replace(details.initialContactId, '<ContactId>')
          .replace(key.customerAddress, '<address>');
        perKey[shape] = Number(await reader.call('MEMORY', 'USAGE', redisKey, 'SAMPLES', '0'));
      }
      const total = Object.values(perKey).reduce((sum, bytes) => sum + bytes, 0);
      const recordEncoding = await reader.object('ENCODING', `${prefix}:conv:${id}`);
      return { total, perKey, recordEncoding };
    }

    it('keeps an idle conversation small', async () => {
      const emulatorSized = await idleFootprint('emu', emulatorToken);
      const connectSized = await idleFootprint('cnx', connectSizedToken);
      process.stdout.write(
        `idle conversation, MEMORY USAGE summed over its keys:\n` +
          `  64-character tokens (emulator): ${emulatorSized.total} B ${JSON.stringify(emulatorSized.perKey)}\n` +
          `  612-character tokens (Connect-sized): ${connectSized.total} B ${JSON.stringify(connectSized.perKey)}\n`,
      );
      expect(Object.keys(connectSized.perKey).sort()).toEqual([
        'conv:<id>',
        'conv:<id>:creds',
        'conv:<id>:trace',
        'conv:by-activity',
        'conv:by-contact:<ContactId>',
        'conv:by-credential-expiry',
        'conv:by-customer:<address>',
      ]);
      expect(emulatorSized.recordEncoding).toBe('listpack');
      // Two 612-character base64 tokens are 918 bytes decoded, 954 sealed together (2048 B
      // by MEMORY USAGE as two sealed base64url values in a hash).
      expect(connectSized.perKey['conv:<id>:creds']).toBeLessThanOrEqual(1_152);
      expect(emulatorSized.perKey['conv:<id>:creds']).toBeLessThanOrEqual(320);
      // Three events under short field names (824 B under the full names).
      expect(connectSized.perKey['conv:<id>:trace']).toBeLessThanOrEqual(640);
      expect(emulatorSized.total).toBeLessThan(2_048);
      expect(connectSized.total).toBeLessThan(2_816);
    });
  });
});
