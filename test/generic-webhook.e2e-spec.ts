import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { signGenericBody } from '../src/channels';
import type { LaneJob } from '../src/relay';
import { BridgeProcess } from '../src/sandbox/bridge-process';
import { eventually } from '../src/sandbox/eventually';
import { RedisServer } from '../src/sandbox/redis-server';
import { bridgeEnv } from './support/env';

const SECRET = 'generic-webhook-secret-for-tests';

describe('POST /webhooks/generic/:channel', () => {
  let redis: RedisServer;
  let bridge: BridgeProcess;
  let inbound: Queue<LaneJob>;
  let reader: Redis;

  beforeAll(async () => {
    redis = await RedisServer.start();
    bridge = await BridgeProcess.start(
      bridgeEnv({ REDIS_URL: redis.url, GENERIC_WEBHOOK_SECRET: SECRET }),
    );
    inbound = new Queue('inbound', { connection: { url: redis.url }, prefix: '{csb}' });
    reader = new Redis(redis.url);
  });

  afterAll(async () => {
    await bridge?.stop();
    await inbound?.close();
    reader?.disconnect();
    await redis?.destroy();
  });

  const message = (messageId: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      messageId,
      from: '+15551230001',
      to: '+15559990000',
      text: 'hello',
      ...extra,
    });
  const post = (
    body: string,
    // An empty signature sends no header at all.
    signature: string = signGenericBody(SECRET, body),
    channel = 'app',
  ) =>
    fetch(`${bridge.url}/webhooks/generic/${channel}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(signature ? { 'x-signature-256': signature } : {}),
      },
      body,
    });
  const jobIds = async () =>
    (await inbound.getJobs(['waiting', 'active', 'delayed', 'completed'])).map((j) => j.id);

  it('stores a signed message durably, in its conversation lane, before answering 200', async () => {
    const res = await post(message('m-1'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, statuses: 0 });
    const id = encodeURIComponent('generic:app/m-1');
    expect(await jobIds()).toContain(id);
    const job = await inbound.getJob(id);
    expect(job?.data).toEqual({
      messageId: id,
      conversationId: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    const lane = await reader.zrange(`{csb}:relay:in-lane:${job?.data.conversationId}`, 0, -1);
    expect(lane).toEqual([id]);
    const stored = JSON.parse((await reader.hget(`{csb}:relay:in:${id}`, 'm'))!) as Record<
      string,
      unknown
    >;
    expect(stored).toMatchObject({
      channel: 'generic:app',
      providerMessageId: 'm-1',
      text: 'hello',
    });
  });

  it('takes the same webhook delivered three times once', async () => {
    const body = message('m-dup');
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await (await post(body)).json());
    expect(answers).toEqual([
      { accepted: 1, duplicates: 0, statuses: 0 },
      { accepted: 0, duplicates: 1, statuses: 0 },
      { accepted: 0, duplicates: 1, statuses: 0 },
    ]);
    const id = encodeURIComponent('generic:app/m-dup');
    expect((await jobIds()).filter((jobId) => jobId === id)).toHaveLength(1);
  });

  it('answers 401 to a wrong or missing signature, and stores nothing', async () => {
    const body = message('m-forged');
    const before = await reader.keys('{csb}:relay:*');
    expect((await post(body, signGenericBody('another-secret-entirely', body))).status).toBe(401);
    expect((await post(body, '')).status).toBe(401);
    expect((await post(body, signGenericBody(SECRET, `${body} `))).status).toBe(401);
    expect(await reader.keys('{csb}:relay:*')).toEqual(expect.arrayContaining(before));
    expect((await reader.keys('{csb}:relay:*')).length).toBe(before.length);
    expect(await jobIds()).not.toContain(encodeURIComponent('generic:app/m-forged'));
  });

  it.each([
    ['no sender', JSON.stringify({ messageId: 'm-bad', to: '+1555', text: 'x' }), 'from'],
    [
      'no text and no attachment',
      JSON.stringify({ messageId: 'm-bad', from: '+1', to: '+2' }),
      'text or at least one attachment',
    ],
    [
      'an attachment without a URL',
      message('m-bad', { attachments: [{ contentType: 'image/png' }] }),
      'attachments.0.url',
    ],
  ])('answers 400 with the reason for %s, and stores nothing', async (_case, body, reason) => {
    const before = (await reader.keys('{csb}:relay:*')).length;
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain(reason);
    expect((await reader.keys('{csb}:relay:*')).length).toBe(before);
  });

  it('checks the signature first, then answers 400 for a malformed channel name', async () => {
    expect((await post(message('m-x'), '', 'Not_Valid')).status).toBe(401);
    const body = message('m-x');
    expect((await post(body, signGenericBody(SECRET, body), 'Not_Valid')).status).toBe(400);
  });

  it('answers 503 while Redis is down, and takes the provider retry once Redis is back', async () => {
    const body = message('m-outage');
    await redis.stop();
    const during = await post(body);
    expect(during.status).toBe(503);
    await redis.restart();
    await eventually(
      'the retry is accepted',
      async () => (await post(body)).status === 200,
      15_000,
    );
    expect(await jobIds()).toContain(encodeURIComponent('generic:app/m-outage'));
  });
});

describe('the generic channel when it is not configured', () => {
  let bridge: BridgeProcess;

  beforeAll(async () => {
    bridge = await BridgeProcess.start(bridgeEnv({ REDIS_KEY_PREFIX: 'generic-off' }));
  });

  afterAll(async () => {
    await bridge?.stop();
  });

  it('answers 404 naming the variable that enables it', async () => {
    const res = await fetch(`${bridge.url}/webhooks/generic/app`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('GENERIC_WEBHOOK_SECRET');
  });
});
