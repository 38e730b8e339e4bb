import { genericCustomers } from './support/generic-customers';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { LaneJob } from '../src/relay';
import { BridgeProcess } from '../src/sandbox/bridge-process';
import { ConnectEmulator } from '../src/sandbox/emulator';
import type { Contact } from '../src/sandbox/emulator/model';
import { eventually } from '../src/sandbox/eventually';
import { FakeGenericApp } from '../src/sandbox/providers';
import { emulatedBridgeEnv, sharedRedisUrl } from './support/env';
import { startStreamingBridge } from './support/streaming';

const SECRET = 'generic-webhook-secret-for-tests';
const TOKEN = 'admin-api-token-for-the-tests';
const BUSINESS = '+15559990000';

/** One route of each family, with a method. */
const ROUTES: [string, string][] = [
  ['GET', '/admin/conversations?customer=%2B15550000000'],
  ['GET', '/admin/conversations/some-contact'],
  ['POST', '/admin/conversations/some-conversation/end'],
  ['GET', '/admin/jobs'],
  ['GET', '/admin/jobs/inbound/failed'],
  ['POST', '/admin/jobs/inbound/some-job/retry'],
  ['DELETE', '/admin/jobs/inbound/some-job'],
  ['POST', '/admin/jobs/outbound/failed/retry'],
  ['DELETE', '/admin/jobs/outbound/failed'],
  ['POST', '/admin/jobs/inbound/pause'],
  ['POST', '/admin/jobs/inbound/resume'],
];

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

interface ConversationAnswer {
  conversation: Record<string, unknown> & { id: string; state: string; contactId: string };
  trace: { event: string; reason?: string; contactId?: string }[];
}

/** Every participant and connection token Connect issued for the contact. */
function tokensOf(contact: Contact): string[] {
  return contact.participants.flatMap((participant) => [
    ...(participant.participantToken ? [participant.participantToken] : []),
    ...participant.connections.map((connection) => connection.token),
  ]);
}

interface FailedJob {
  id: string;
  conversationId: string;
  messageId: string;
  failedReason: string;
  attemptsMade: number;
  createdAt: number;
  failedAt: number;
  message: { text?: string } | null;
}

describe('the admin API', () => {
  let emulator: ConnectEmulator;
  let app: FakeGenericApp;
  let bridge: BridgeProcess;
  const prefix = `admin${Date.now()}`;
  const queues: Record<string, Queue<LaneJob>> = {};

  beforeAll(async () => {
    emulator = await ConnectEmulator.start();
    app = await FakeGenericApp.start({ secret: SECRET });
    bridge = await startStreamingBridge(emulator, {
      REDIS_KEY_PREFIX: prefix,
      GENERIC_WEBHOOK_SECRET: SECRET,
      GENERIC_CALLBACK_URL: app.callbackUrl,
      ADMIN_API_TOKEN: TOKEN,
      INBOUND_ATTEMPTS: '2',
      LOG_LEVEL: 'info',
    });
    for (const name of ['inbound', 'outbound']) {
      queues[name] = new Queue<LaneJob>(name, {
        connection: { url: sharedRedisUrl() },
        prefix: `{${prefix}}`,
      });
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(queues).map((queue) => queue.close()));
    await bridge?.stop();
    await emulator?.close();
    await app?.close();
  });

  beforeEach(() => {
    emulator.faults.configure({ seed: 1, operations: {}, sns: { dropRate: 0, duplicateRate: 0 } });
    app.clearFaults();
  });

  async function admin<T = Record<string, unknown>>(
    method: string,
    path: string,
    token: string | null = TOKEN,
    url = bridge.url,
  ): Promise<Answer<T>> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as T, headers: res.headers };
  }

  const { newCustomer, contactsOf, customerTexts, post, customerWrites } = genericCustomers({
    bridgeUrl: () => bridge.url,
    emulator: () => emulator,
    secret: SECRET,
    businessAddress: BUSINESS,
    firstNumber: 3_000_000,
  });
  const textsAtCustomer = (customer: string) =>
    app
      .messages()
      .filter((message) => message.to === customer)
      .map((message) => message.text);

  const inboundJobId = (messageId: string) => encodeURIComponent(`generic:app/${messageId}`);
  const failedJobs = async (queue: string) =>
    (await admin<{ total: number; jobs: FailedJob[] }>('GET', `/admin/jobs/${queue}/failed`)).body
      .jobs;
  const failedJob = async (queue: string, jobId: string) => {
    await eventually(
      `job ${jobId} failed`,
      async () => (await queues[queue].getJobState(jobId)) === 'failed',
      30_000,
    );
    return (await failedJobs(queue)).find((job) => job.id === jobId);
  };
  const jobPath = (queue: string, jobId: string) =>
    `/admin/jobs/${queue}/${encodeURIComponent(jobId)}`;

  /** An agent message the generic app refuses for good (HTTP 400); answers its job id. */
  async function refusedAgentMessage(customer: string, content: string) {
    const contactId = (await customerWrites(customer, `opening-${customer.slice(1)}`)).contactId;
    emulator.center.agentJoin(contactId, 'Sam');
    app.failNext({ status: 400, times: 10 });
    const item = emulator.center.agentMessage(contactId, { content });
    return { contactId, jobId: encodeURIComponent(item.Id) };
  }

  it('answers 401 with a Bearer challenge without the token or with another one, on every route', async () => {
    for (const [method, path] of ROUTES) {
      for (const token of [null, 'not-the-admin-api-token', `${TOKEN}x`]) {
        const answer = await admin(method, path, token);
        expect([method, path, answer.status]).toEqual([method, path, 401]);
        expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
    expect(await queues.inbound.isPaused()).toBe(false);
    expect(JSON.stringify(bridge.logs)).not.toContain(TOKEN);
  });

  it('answers 404 on every route when ADMIN_API_TOKEN is unset', async () => {
    const closed = await BridgeProcess.start(
      emulatedBridgeEnv(emulator, { REDIS_KEY_PREFIX: `${prefix}-closed`, LOG_LEVEL: 'warn' }),
    );
    try {
      for (const [method, path] of ROUTES) {
        const answer = await admin(method, path, TOKEN, closed.url);
        expect([method, path, answer.status]).toEqual([method, path, 404]);
        expect(answer.body).toEqual({
          statusCode: 404,
          error: 'Not Found',
          message: `Cannot ${method} ${path}`,
        });
      }
    } finally {
      await closed.stop();
    }
  });

  it('finds a conversation by customer, by contact id and by a transferred ContactId, with its trace and no token', async () => {
    const customer = newCustomer();
    const contact = await customerWrites(customer, 'find-1');
    const tokens = tokensOf(contact);
    expect(tokens.length).toBeGreaterThanOrEqual(2);

    const byCustomer = await admin<{ conversations: ConversationAnswer[] }>(
      'GET',
      `/admin/conversations?customer=${encodeURIComponent(customer)}`,
    );
    expect(byCustomer.status).toBe(200);
    expect(byCustomer.body.conversations).toHaveLength(1);
    const [found] = byCustomer.body.conversations;
    expect(found.conversation).toMatchObject({
      state: 'active',
      channel: 'generic:app',
      customerAddress: customer,
      businessAddress: BUSINESS,
      initialContactId: contact.initialContactId,
      contactId: contact.contactId,
    });
    expect(found.trace.map((event) => event.event)).toEqual(
      expect.arrayContaining(['received', 'contact-started', 'sent']),
    );
    // An unencoded '+' arrives as a space; the customer is found all the same.
    const unencoded = await admin<{ conversations: ConversationAnswer[] }>(
      'GET',
      `/admin/conversations?customer=${customer}&channel=generic:app`,
    );
    expect(unencoded.body.conversations.map((c) => c.conversation.id)).toEqual([
      found.conversation.id,
    ]);
    const otherChannel = await admin<{ conversations: ConversationAnswer[] }>(
      'GET',
      `/admin/conversations?customer=${encodeURIComponent(customer)}&channel=generic:other`,
    );
    expect(otherChannel.body.conversations).toEqual([]);

    const byInitialContact = await admin<ConversationAnswer>(
      'GET',
      `/admin/conversations/${contact.initialContactId}`,
    );
    expect(byInitialContact.status).toBe(200);
    expect(byInitialContact.body.conversation.id).toBe(found.conversation.id);

    const transferred = emulator.center.transfer(contact.contactId);
    let byTransferred: Answer<ConversationAnswer> | undefined;
    await eventually(
      'the transferred ContactId finds the conversation',
      async () => {
        byTransferred = await admin<ConversationAnswer>(
          'GET',
          `/admin/conversations/${transferred}`,
        );
        return byTransferred.status === 200;
      },
      20_000,
    );
    expect(byTransferred!.body.conversation).toMatchObject({
      id: found.conversation.id,
      initialContactId: contact.initialContactId,
      contactId: transferred,
    });

    for (const answer of [byCustomer, unencoded, byInitialContact, byTransferred!]) {
      const text = JSON.stringify(answer.body);
      for (const token of tokens) expect(text).not.toContain(token);
      expect(text).not.toMatch(/participantToken|connectionToken/);
    }
    expect((await admin('GET', '/admin/conversations/no-such-contact')).status).toBe(404);
    expect((await admin('GET', '/admin/conversations')).status).toBe(400);
  });

  it('shows a conversation whose tokens cannot be opened (TOKEN_ENCRYPTION_KEY changed) without touching it', async () => {
    const customer = newCustomer();
    const contact = await customerWrites(customer, 'sealed-1');
    const path = `/admin/conversations?customer=${encodeURIComponent(customer)}`;
    const before = await admin<{ conversations: ConversationAnswer[] }>('GET', path);
    const { id } = before.body.conversations[0].conversation;
    const redis = new Redis(sharedRedisUrl());
    try {
      await redis.set(`{${prefix}}:conv:${id}:creds`, Buffer.from('v2:not what was sealed'));
      const after = await admin<{ conversations: ConversationAnswer[] }>('GET', path);
      expect(after.status).toBe(200);
      expect(after.body.conversations.map((answer) => answer.conversation)).toEqual([
        expect.objectContaining({ id, state: 'active', contactId: contact.contactId }),
      ]);
      const byContact = await admin<ConversationAnswer>(
        'GET',
        `/admin/conversations/${contact.contactId}`,
      );
      expect(byContact.status).toBe(200);
      expect(byContact.body.conversation.state).toBe('active');
    } finally {
      redis.disconnect();
    }
  });

  it('ends a live contact: the customer leaves, the contact ends, the next message starts another', async () => {
    const customer = newCustomer();
    const contact = await customerWrites(customer, 'end-1');
    const [found] = (
      await admin<{ conversations: ConversationAnswer[] }>(
        'GET',
        `/admin/conversations?customer=${encodeURIComponent(customer)}`,
      )
    ).body.conversations;
    const path = `/admin/conversations/${found.conversation.id}/end`;

    const ended = await admin<ConversationAnswer>('POST', path);
    expect(ended.status).toBe(200);
    expect(ended.body.conversation.state).toBe('ended');
    expect(ended.body.trace).toContainEqual(
      expect.objectContaining({ event: 'contact-ended', reason: 'ended by an operator' }),
    );
    const atConnect = emulator.center.findContact(contact.contactId);
    expect(atConnect.endedAt).toBeDefined();
    expect(atConnect.participants.find((p) => p.role === 'CUSTOMER')?.left).toBe(true);
    expect(emulator.requests('DisconnectParticipant')).toHaveLength(1);

    expect((await admin('POST', path)).status).toBe(409);
    expect((await admin('POST', '/admin/conversations/no-such-conversation/end')).status).toBe(404);
    expect(emulator.requests('DisconnectParticipant')).toHaveLength(1);

    await customerWrites(customer, 'end-2');
    expect(contactsOf(customer)).toHaveLength(2);
    const next = contactsOf(customer).find((c) => c.endedAt === undefined)!;
    expect(next.contactId).not.toBe(contact.contactId);
    expect(
      next.transcript.filter((item) => item.Content === 'text of end-2').map((i) => i.Content),
    ).toEqual(['text of end-2']);
    expect(JSON.stringify(bridge.logs)).toContain('an operator ended the contact');
  });

  it('lists a customer message that failed, and retries it once Connect is back: delivered once, behind nothing', async () => {
    const customer = newCustomer();
    await customerWrites(customer, 'retry-0');
    emulator.faults.configure({
      seed: 1,
      operations: { SendMessage: { throttleRate: 1 } },
      sns: { dropRate: 0, duplicateRate: 0 },
    });
    await post(customer, 'retry-1');
    const job = await failedJob('inbound', inboundJobId('retry-1'));
    expect(job).toMatchObject({
      messageId: inboundJobId('retry-1'),
      attemptsMade: 2,
      failedReason: expect.stringMatching(/rate exceeded|throttl/i),
      message: { text: 'text of retry-1' },
    });
    expect(job!.failedAt).toBeGreaterThanOrEqual(job!.createdAt);

    emulator.faults.configure({ seed: 1, operations: {}, sns: { dropRate: 0, duplicateRate: 0 } });
    await post(customer, 'retry-2');
    await eventually(
      'the later message is not held',
      () => customerTexts(customer).includes('text of retry-2'),
      20_000,
    );

    // The job id as listed, pasted into the path without encoding it again.
    const retried = await admin('POST', `/admin/jobs/inbound/${job!.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ outcome: 'retried' });
    await eventually(
      'the retried message at Connect',
      () => customerTexts(customer).includes('text of retry-1'),
      20_000,
    );
    await customerWrites(customer, 'retry-3');
    expect(customerTexts(customer)).toEqual([
      'text of retry-0',
      'text of retry-2',
      'text of retry-1',
      'text of retry-3',
    ]);
    expect((await failedJobs('inbound')).map((failed) => failed.id)).not.toContain(job!.id);
    expect((await admin('POST', `${jobPath('inbound', job!.id)}/retry`)).status).toBe(404);
  });

  it('retries an agent message the channel refused for good once the cause is gone, and discards another for good', async () => {
    const customer = newCustomer();
    const refused = await refusedAgentMessage(customer, 'refused then retried');
    const job = await failedJob('outbound', refused.jobId);
    expect(job).toMatchObject({
      failedReason: 'the callback answered HTTP 400',
      attemptsMade: 1,
      message: { text: 'refused then retried' },
    });
    app.clearFaults();
    expect((await admin('POST', `${jobPath('outbound', job!.id)}/retry`)).status).toBe(200);
    await eventually(
      'the retried message at the customer',
      () => textsAtCustomer(customer).includes('refused then retried'),
      20_000,
    );

    app.failNext({ status: 400, times: 10 });
    const discarded = emulator.center.agentMessage(refused.contactId, { content: 'never sent' });
    const discardedId = encodeURIComponent(discarded.Id);
    await failedJob('outbound', discardedId);
    app.clearFaults();
    const answer = await admin('DELETE', jobPath('outbound', discardedId));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ outcome: 'discarded' });
    expect((await failedJobs('outbound')).map((failed) => failed.id)).not.toContain(discardedId);
    expect((await admin('DELETE', jobPath('outbound', discardedId))).status).toBe(404);
    expect((await admin('POST', `${jobPath('outbound', discardedId)}/retry`)).status).toBe(404);

    emulator.center.agentMessage(refused.contactId, { content: 'after the discarded one' });
    await eventually(
      'the next agent message at the customer',
      () => textsAtCustomer(customer).includes('after the discarded one'),
      20_000,
    );
    await emulator.sns.idle();
    expect(textsAtCustomer(customer)).toEqual(['refused then retried', 'after the discarded one']);
  });

  it('retries and discards every failed job of a queue at once', async () => {
    const first = newCustomer();
    const second = newCustomer();
    const a = await refusedAgentMessage(first, 'first refused');
    const b = await refusedAgentMessage(second, 'second refused');
    await failedJob('outbound', a.jobId);
    await failedJob('outbound', b.jobId);
    app.clearFaults();
    const retried = await admin('POST', '/admin/jobs/outbound/failed/retry');
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ queue: 'outbound', retried: 2, skipped: 0 });
    await eventually(
      'both at their customers',
      () =>
        textsAtCustomer(first).includes('first refused') &&
        textsAtCustomer(second).includes('second refused'),
      20_000,
    );

    app.failNext({ status: 400, times: 10 });
    const c = emulator.center.agentMessage(a.contactId, { content: 'refused again' });
    await failedJob('outbound', encodeURIComponent(c.Id));
    const discarded = await admin('DELETE', '/admin/jobs/outbound/failed');
    expect(discarded.body).toEqual({ queue: 'outbound', discarded: 1, skipped: 0 });
    expect(await failedJobs('outbound')).toEqual([]);
    expect(textsAtCustomer(first)).toEqual(['first refused']);
    expect(textsAtCustomer(second)).toEqual(['second refused']);
  });

  it('pauses a queue: a new message waits until it is resumed', async () => {
    const customer = newCustomer();
    await customerWrites(customer, 'pause-0');
    const paused = await admin('POST', '/admin/jobs/inbound/pause');
    expect(paused.body).toEqual({ queue: 'inbound', paused: true });
    try {
      await post(customer, 'pause-1');
      const overview = await admin<{
        queues: { queue: string; paused: boolean; counts: Record<string, number> }[];
      }>('GET', '/admin/jobs');
      expect(overview.body.queues).toEqual([
        expect.objectContaining({ queue: 'inbound', paused: true }),
        expect.objectContaining({ queue: 'outbound', paused: false }),
      ]);
      expect(overview.body.queues[0].counts.waiting).toBeGreaterThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await queues.inbound.getJobState(inboundJobId('pause-1'))).toBe('waiting');
      expect(customerTexts(customer)).toEqual(['text of pause-0']);
    } finally {
      const resumed = await admin('POST', '/admin/jobs/inbound/resume');
      expect(resumed.body).toEqual({ queue: 'inbound', paused: false });
    }
    await eventually(
      'the message at Connect once resumed',
      () => customerTexts(customer).includes('text of pause-1'),
      20_000,
    );
    expect(customerTexts(customer)).toEqual(['text of pause-0', 'text of pause-1']);
  });

  it('never logs a token, and names unknown queues and jobs', async () => {
    expect((await admin('GET', '/admin/jobs/elsewhere/failed')).status).toBe(404);
    expect((await admin('POST', '/admin/jobs/inbound/no-such-job/retry')).status).toBe(404);
    expect((await admin('GET', '/admin/jobs/inbound/failed?limit=0')).status).toBe(400);
    const logs = JSON.stringify(bridge.logs);
    expect(logs).not.toContain(TOKEN);
    const tokens = emulator.center.list().flatMap(tokensOf);
    expect(tokens.length).toBeGreaterThan(10);
    for (const token of tokens) expect(logs).not.toContain(token);
  });
});
