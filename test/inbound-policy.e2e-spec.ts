import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { conversationIdOf } from '../src/conversations';
import type { LaneJob } from '../src/relay';
import { BridgeProcess } from '../src/sandbox/bridge-process';
import { eventually } from '../src/sandbox/eventually';
import { ConnectEmulator } from '../src/sandbox/emulator';
import { sendGenericMessage } from '../src/sandbox/generic-customer';
import { RedisServer } from '../src/sandbox/redis-server';
import { emulatedBridgeEnv } from './support/env';

const SECRET = 'generic-webhook-secret-for-tests';
const BUSINESS = '+15559990000';

/** Failure policy, persistent chat and Redis outages, each with a bridge of its own. */
describe('customer → Connect: policies', () => {
  let emulator: ConnectEmulator;
  let redis: RedisServer;
  let bridge: BridgeProcess | undefined;
  let inbound: Queue<LaneJob> | undefined;

  beforeEach(async () => {
    emulator = await ConnectEmulator.start();
    redis = await RedisServer.start();
  });

  afterEach(async () => {
    await bridge?.stop();
    await inbound?.close();
    await emulator.close();
    await redis.destroy();
    bridge = undefined;
    inbound = undefined;
  });

  async function startBridge(env: Record<string, string> = {}) {
    await inbound?.close();
    bridge = await BridgeProcess.start(
      emulatedBridgeEnv(emulator, { REDIS_URL: redis.url, GENERIC_WEBHOOK_SECRET: SECRET, ...env }),
    );
    inbound = new Queue<LaneJob>('inbound', { connection: { url: redis.url }, prefix: '{csb}' });
    // The outage test stops Redis under this inspector too; its connection errors are expected.
    inbound.on('error', () => undefined);
    return bridge;
  }
  const post = (from: string, messageId: string) =>
    sendGenericMessage(bridge!.url, SECRET, {
      messageId,
      from,
      to: BUSINESS,
      text: `text of ${messageId}`,
    });
  const texts = () =>
    emulator.center
      .list()
      .flatMap((contact) => contact.transcript)
      .filter((item) => item.ParticipantRole === 'CUSTOMER' && item.Type === 'MESSAGE')
      .map((item) => item.Content);
  const failedJob = async (messageId: string) => {
    const id = encodeURIComponent(`generic:app/${messageId}`);
    await eventually(
      'the job has failed',
      async () => (await inbound!.getJobState(id)) === 'failed',
      20_000,
    );
    return (await inbound!.getJob(id))!;
  };

  it('fails a message Connect rejects at once, with the reason', async () => {
    await startBridge({ CONNECT_CONTACT_FLOW_ID: 'no-such-flow' });
    expect((await post('+15550002001', 'rejected-1')).status).toBe(200);
    const job = await failedJob('rejected-1');
    expect(job.failedReason).toContain('Contact flow not found');
    expect(job.attemptsMade).toBe(1);
  });

  it('gives up after INBOUND_ATTEMPTS, keeps the reason, and the conversation moves on', async () => {
    await startBridge({ INBOUND_ATTEMPTS: '2' });
    emulator.faults.configure({
      seed: 1,
      operations: { SendMessage: { throttleRate: 1 } },
      sns: { dropRate: 0, duplicateRate: 0 },
    });
    expect((await post('+15550002002', 'exhausted-1')).status).toBe(200);
    const job = await failedJob('exhausted-1');
    expect(job.attemptsMade).toBe(2);
    expect(job.failedReason).toMatch(/rate exceeded|throttl/i);

    emulator.faults.configure({ seed: 1, operations: {}, sns: { dropRate: 0, duplicateRate: 0 } });
    expect((await post('+15550002002', 'exhausted-2')).status).toBe(200);
    await eventually(
      'the next message is delivered',
      () => texts().includes('text of exhausted-2'),
      20_000,
    );
    expect(texts()).not.toContain('text of exhausted-1');
  });

  it('continues a recently ended chat as a persistent chat', async () => {
    await startBridge({ PERSISTENT_CHAT_DAYS: '1' });
    await post('+15550002003', 'persistent-1');
    await eventually('the first message arrives', () => texts().length === 1, 20_000);
    const [first] = emulator.center.list();
    emulator.center.endChat(first.contactId);
    await post('+15550002003', 'persistent-2');
    await eventually('the second message arrives', () => texts().length === 2, 20_000);
    const starts = emulator.requests('StartChatContact');
    expect(starts).toHaveLength(2);
    expect(starts[0].body).not.toHaveProperty('PersistentChat');
    expect(starts[1].body).toMatchObject({
      PersistentChat: {
        RehydrationType: 'ENTIRE_PAST_SESSION',
        SourceContactId: first.initialContactId,
      },
    });
  });

  it('answers 503 while Redis is down and delivers the provider retry once it is back', async () => {
    await startBridge();
    await redis.stop();
    expect((await post('+15550002004', 'outage-1')).status).toBe(503);
    await redis.restart();
    await eventually(
      'the retry is accepted',
      async () => (await post('+15550002004', 'outage-1')).status === 200,
      15_000,
    );
    await eventually(
      'the message is at Connect',
      () => texts().includes('text of outage-1'),
      20_000,
    );
    expect(texts()).toEqual(['text of outage-1']);
  });

  it('restarts an ended contact once, even when the restart fails half-way and is retried', async () => {
    await startBridge();
    const customer = '+15550002005';
    await post(customer, 'restart-1');
    await eventually('the first message arrives', () => texts().length === 1, 20_000);
    emulator.center.endChat(emulator.center.list()[0].contactId);
    emulator.faults.configure({
      seed: 1,
      operations: { StartContactStreaming: { serverErrorRate: 1 } },
      sns: { dropRate: 0, duplicateRate: 0 },
    });
    await post(customer, 'restart-2');
    await eventually(
      'the restart failed at StartContactStreaming',
      () => emulator.requests('StartContactStreaming').some((request) => request.status === 500),
      20_000,
    );
    emulator.faults.configure({ seed: 1, operations: {}, sns: { dropRate: 0, duplicateRate: 0 } });
    await eventually('the second message arrives', () => texts().length === 2, 30_000);
    expect(emulator.center.list()).toHaveLength(2);
    expect(texts()).toEqual(['text of restart-1', 'text of restart-2']);
  });

  it('settles a lane head whose job failed without running, and delivers what waits behind it', async () => {
    const key = {
      channel: 'generic:app',
      customerAddress: '+15550002006',
      businessAddress: BUSINESS,
    };
    const conversationId = conversationIdOf(key);
    const stuck = encodeURIComponent('generic:app/stuck-1');
    // A message accepted earlier whose job then failed without its processor (as after stalling
    // twice): pending, at the head of its lane, its job in the failed set.
    const writer = new Redis(redis.url);
    await writer.hset(`{csb}:relay:in:${stuck}`, {
      s: 'pending',
      c: conversationId,
      m: JSON.stringify({
        ...key,
        providerMessageId: 'stuck-1',
        text: 'lost?',
        attachments: [],
        receivedAt: 0,
      }),
    });
    await writer.zadd(`{csb}:relay:in-lane:${conversationId}`, 0, stuck);
    writer.disconnect();
    const failing = new Worker(
      'inbound',
      () => Promise.reject(new UnrecoverableError('job stalled more than allowable limit')),
      { connection: { url: redis.url }, prefix: '{csb}' },
    );
    const queue = new Queue<LaneJob>('inbound', {
      connection: { url: redis.url },
      prefix: '{csb}',
    });
    await queue.add('message', { messageId: stuck, conversationId }, { jobId: stuck });
    await eventually(
      'the stuck job failed',
      async () => (await queue.getJobState(stuck)) === 'failed',
      10_000,
    );
    await failing.close();
    await queue.close();

    await startBridge();
    expect((await post(key.customerAddress, 'behind-1')).status).toBe(200);
    await eventually(
      'the message behind it arrives',
      () => texts().includes('text of behind-1'),
      20_000,
    );
    expect(texts()).not.toContain('lost?');
    const reader = new Redis(redis.url);
    try {
      expect(await reader.hget(`{csb}:relay:in:${stuck}`, 's')).toBe('failed');
      // Connect has the message a moment before its lane is settled.
      await eventually(
        'the lane empty',
        async () => (await reader.zcard(`{csb}:relay:in-lane:${conversationId}`)) === 0,
        10_000,
      );
    } finally {
      reader.disconnect();
    }
  });

  it('keeps tokens encrypted at rest, and starts a new contact when the key changed', async () => {
    const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');
    const customer = '+15550002007';
    await startBridge({ TOKEN_ENCRYPTION_KEY: key(1) });
    await post(customer, 'key-1');
    await eventually('the first message arrives', () => texts().length === 1, 20_000);
    const id = conversationIdOf({
      channel: 'generic:app',
      customerAddress: customer,
      businessAddress: BUSINESS,
    });
    const reader = new Redis(redis.url);
    const stored = await reader.getBuffer(`{csb}:conv:${id}:creds`);
    reader.disconnect();
    expect(stored?.subarray(0, 3).toString()).toBe('v2:');
    const [contact] = emulator.center.list();
    const tokens = contact.participants.flatMap((p) => [
      p.participantToken,
      ...p.connections.map((c) => c.token),
    ]);
    for (const token of tokens.filter((token) => token !== undefined)) {
      expect(stored?.includes(token)).toBe(false);
      expect(stored?.includes(Buffer.from(token, 'base64'))).toBe(false);
    }

    await bridge!.stop();
    await startBridge({ TOKEN_ENCRYPTION_KEY: key(2) });
    await post(customer, 'key-2');
    await eventually('the second message arrives', () => texts().length === 2, 20_000);
    expect(emulator.center.list()).toHaveLength(2);
  });
});
