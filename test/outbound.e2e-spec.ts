import { Redis } from 'ioredis';
import { conversationIdOf, parseTrace } from '../src/conversations';
import { BridgeProcess } from '../src/sandbox/bridge-process';
import { ConnectEmulator } from '../src/sandbox/emulator';
import { eventually } from '../src/sandbox/eventually';
import { sendGenericMessage } from '../src/sandbox/generic-customer';
import { FakeGenericApp } from '../src/sandbox/providers';
import { sharedRedisUrl } from './support/env';
import type { ReceivedSnsEnvelope } from './support/sns';
import { type SnsCapture, startSnsCapture, startStreamingBridge } from './support/streaming';

const SECRET = 'generic-webhook-secret-for-tests';
const BUSINESS = '+15559990000';

describe('Connect → customer through SNS and the generic channel', () => {
  let emulator: ConnectEmulator;
  let app: FakeGenericApp;
  let bridge: BridgeProcess;
  let receiver: SnsCapture;
  /** Every notification SNS delivered to a second subscriber of the topics, signed as sent. */
  let captured: ReceivedSnsEnvelope[];
  let otherTopicArn: string;
  let redis: Redis;
  const prefix = `outbound${Date.now()}`;
  let customerCount = 0;

  beforeAll(async () => {
    emulator = await ConnectEmulator.start({ topicNames: ['connect-chat-stream', 'other-topic'] });
    otherTopicArn = emulator.topicArn.replace(/connect-chat-stream$/, 'other-topic');
    app = await FakeGenericApp.start({ secret: SECRET });
    receiver = await startSnsCapture(emulator, [emulator.topicArn, otherTopicArn]);
    captured = receiver.envelopes;
    bridge = await startStreamingBridge(emulator, {
      REDIS_KEY_PREFIX: prefix,
      GENERIC_WEBHOOK_SECRET: SECRET,
      GENERIC_CALLBACK_URL: app.callbackUrl,
      AGENT_JOINED_MESSAGE: '{name} has joined the chat.',
      CHAT_ENDED_MESSAGE: 'The chat has ended.',
    });
    redis = new Redis(sharedRedisUrl());
  });

  afterAll(async () => {
    redis?.disconnect();
    await bridge?.stop();
    await emulator?.close();
    await app?.close();
    await receiver?.close();
  });

  beforeEach(() => {
    app.clearMessages();
    emulator.faults.configure({ seed: 1, operations: {}, sns: { dropRate: 0, duplicateRate: 0 } });
  });

  const newCustomer = () => `+1555${String(2_000_000 + (customerCount += 1)).slice(-7)}`;
  const received = (customer: string) => app.messages().filter((m) => m.to === customer);
  const textsOf = (customer: string) => received(customer).map((m) => m.text);
  const contactsOf = (customer: string) =>
    emulator.center.list().filter((contact) => contact.attributes.customerAddress === customer);

  /** A customer writes; answers the live contact id once the message is at Connect. */
  async function customerWrites(
    customer: string,
    messageId: string,
    text = `text of ${messageId}`,
  ) {
    const res = await sendGenericMessage(bridge.url, SECRET, {
      messageId,
      from: customer,
      to: BUSINESS,
      text,
    });
    expect(res.status).toBe(200);
    await eventually(
      `"${text}" at Connect`,
      () =>
        contactsOf(customer).some((contact) =>
          contact.transcript.some((item) => item.Content === text),
        ),
      20_000,
    );
    return contactsOf(customer).find((contact) => contact.endedAt === undefined)!.contactId;
  }

  const JOINED = 'Sam has joined the chat.';

  /** A customer writes and agent Sam joins; answers the contact id once the customer saw Sam join. */
  async function chatWithSam(customer: string, messageId: string) {
    const contactId = await customerWrites(customer, messageId);
    emulator.center.agentJoin(contactId, 'Sam');
    await eventually(
      `Sam joined for ${customer}`,
      () => textsOf(customer).includes(JOINED),
      20_000,
    );
    return contactId;
  }

  const waitForTexts = (customer: string, texts: string[], withinMs = 20_000) =>
    eventually(
      `${JSON.stringify(texts)} at ${customer}`,
      () => textsOf(customer).length >= texts.length,
      withinMs,
    ).then(() => expect(textsOf(customer)).toEqual(texts));

  /** Waits until SNS has nothing left to deliver, then a little for the bridge's own queue. */
  async function settled() {
    await emulator.sns.idle();
    await new Promise((resolve) => setTimeout(resolve, 800));
  }

  const conversationKey = (customer: string) =>
    `{${prefix}}:conv:${conversationIdOf({ channel: 'generic:app', customerAddress: customer, businessAddress: BUSINESS })}`;

  it('subscribed on start and answered the confirmation with ConfirmSubscription', () => {
    const endpoint = `${bridge.url}/webhooks/connect`;
    expect(emulator.sns.subscriptionsOf(emulator.topicArn)).toContainEqual(
      expect.objectContaining({ endpoint, protocol: 'http', status: 'confirmed' }),
    );
    const confirmation = emulator.sns
      .deliveries()
      .find(
        (d) =>
          d.endpoint === endpoint &&
          d.type === 'SubscriptionConfirmation' &&
          d.outcome === 'delivered',
      );
    expect(confirmation?.statusCode).toBe(200);
  });

  it('sends an agent message to the customer once, and never the customer their own words', async () => {
    const customer = newCustomer();
    const contactId = await customerWrites(customer, 'hello-1', 'Hello, anyone there?');
    emulator.center.agentJoin(contactId, 'Sam');
    emulator.center.agentMessage(contactId, { content: 'Hi, Sam here. How can I help?' });
    await waitForTexts(customer, ['Sam has joined the chat.', 'Hi, Sam here. How can I help?']);
    await settled();
    expect(textsOf(customer)).toEqual([
      'Sam has joined the chat.',
      'Hi, Sam here. How can I help?',
    ]);
    expect(received(customer)[1]).toMatchObject({ channel: 'app', from: BUSINESS, to: customer });
  });

  it('sends 20 agent messages in the order the agent wrote them', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer, 'order-1');
    const texts = Array.from({ length: 20 }, (_, i) => `agent line ${i + 1}`);
    for (const content of texts) emulator.center.agentMessage(contactId, { content });
    await waitForTexts(customer, [JOINED, ...texts]);
    const ids = received(customer).map((m) => m.messageId);
    expect(new Set(ids).size).toBe(21);
  });

  it('puts items SNS delivers out of order back in the order Connect wrote them', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer, 'shuffle-1');
    const start = Date.now();
    const items = [1, 2, 3, 4, 5].map((n) => ({
      AbsoluteTime: new Date(start + n).toISOString(),
      Content: `line ${n}`,
      ContentType: 'text/plain',
      Id: `shuffle-${start}-${n}`,
      Type: 'MESSAGE',
      ParticipantRole: 'AGENT',
      DisplayName: 'Sam',
      InitialContactId: contactId,
      ContactId: contactId,
    }));
    // Latest first, 30 ms apart: each one arrives within the order window of the one before.
    for (const item of [...items].reverse()) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      emulator.sns.publish(emulator.topicArn, JSON.stringify(item), {
        InitialContactId: contactId,
        ContactId: contactId,
        MessageVisibility: 'ALL',
        Type: 'MESSAGE',
        ParticipantRole: 'AGENT',
      });
    }
    await waitForTexts(customer, [JOINED, 'line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
  });

  it('reads the transcript for an earlier item SNS did not deliver, and sends it first', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer, 'gap-1');
    emulator.faults.configure({ seed: 3, operations: {}, sns: { dropRate: 1, duplicateRate: 0 } });
    emulator.center.agentMessage(contactId, { content: 'lost on the way' });
    emulator.faults.configure({ seed: 3, operations: {}, sns: { dropRate: 0, duplicateRate: 0 } });
    emulator.center.agentMessage(contactId, { content: 'delivered by SNS' });
    await waitForTexts(customer, [JOINED, 'lost on the way', 'delivered by SNS']);
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
    expect(metrics).toMatch(/csb_outbound_order_checks_total\{outcome="caught-up"\} [1-9]/);
  });

  it('forwards SYSTEM messages and plain text of markdown, not AGENT-only notes', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer, 'rule-1');
    emulator.center.agentMessage(contactId, { content: 'internal note', visibility: 'AGENT' });
    emulator.center.systemMessage(contactId, 'You are number 2 in the queue.');
    emulator.center.agentMessage(contactId, {
      content: '**Good news:** see [your order](https://shop.example.com/o/1042)',
      contentType: 'text/markdown',
    });
    await waitForTexts(customer, [
      JOINED,
      'You are number 2 in the queue.',
      'Good news: see your order: https://shop.example.com/o/1042',
    ]);
    await settled();
    expect(textsOf(customer)).not.toContain('internal note');
  });

  it('sends a notification SNS delivers twice only once', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer, 'dup-1');
    emulator.faults.configure({ seed: 7, operations: {}, sns: { dropRate: 0, duplicateRate: 1 } });
    const item = emulator.center.agentMessage(contactId, { content: 'said once' });
    emulator.center.agentMessage(contactId, { content: 'and once more' });
    await waitForTexts(customer, [JOINED, 'said once', 'and once more']);
    await settled();
    expect(textsOf(customer)).toEqual([JOINED, 'said once', 'and once more']);
    const copies = emulator.sns
      .deliveries()
      .filter(
        (d) => d.endpoint.startsWith(bridge.url) && d.copy === 2 && d.outcome === 'delivered',
      );
    expect(copies.length).toBeGreaterThanOrEqual(2);
    const trace = parseTrace(await redis.lrange(`${conversationKey(customer)}:trace`, 0, -1));
    const receivedOnce = trace.filter(
      (entry) => entry.event === 'received' && entry.connectMessageId === item.Id,
    );
    expect(receivedOnce).toHaveLength(1);
  });

  it('refuses a forged signature, a foreign certificate URL and an unknown topic with 403, sending nothing', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer, 'forge-1');
    const item = emulator.center.agentMessage(contactId, { content: 'genuine' });
    await waitForTexts(customer, [JOINED, 'genuine']);
    const genuine = captured.find((envelope) => envelope.Message.includes(item.Id))!;
    const forgedMessage = JSON.stringify({
      ...JSON.parse(genuine.Message),
      Id: 'forged-1',
      Content: 'forged',
    });
    emulator.sns.publish(otherTopicArn, forgedMessage.replace('forged-1', 'other-topic-1'), {
      InitialContactId: contactId,
      ContactId: contactId,
      MessageVisibility: 'ALL',
      Type: 'MESSAGE',
      ParticipantRole: 'AGENT',
    });
    await emulator.sns.idle();
    const fromOtherTopic = captured.find((envelope) => envelope.TopicArn === otherTopicArn)!;

    const attempts: ReceivedSnsEnvelope[] = [
      { ...genuine, Message: forgedMessage },
      { ...genuine, SigningCertURL: 'https://sns.us-east-1.amazonaws.com.evil.example/cert.pem' },
      fromOtherTopic,
    ];
    for (const envelope of attempts) {
      const res = await fetch(`${bridge.url}/webhooks/connect`, {
        method: 'POST',
        headers: {
          'content-type': 'text/plain; charset=UTF-8',
          'x-amz-sns-message-type': 'Notification',
        },
        body: JSON.stringify(envelope),
      });
      expect(res.status).toBe(403);
    }
    await settled();
    expect(textsOf(customer)).toEqual([JOINED, 'genuine']);
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
    for (const reason of [
      'signature-mismatch',
      'certificate-url-not-allowed',
      'topic-not-allowed',
    ]) {
      expect(metrics).toContain(`sns_messages_total{type="unverified",outcome="${reason}"} 1`);
    }
    expect(metrics).toMatch(/connect_stream_events_total\{kind="message",outcome="queued"\} \d+/);
  });

  it('keeps sending after a transfer, and sends the disconnect flow after the agent left', async () => {
    const customer = newCustomer();
    const contactId = await customerWrites(customer, 'transfer-1');
    emulator.center.agentJoin(contactId, 'Sam');
    emulator.center.agentMessage(contactId, { content: 'Let me transfer you.' });
    const transferred = emulator.center.transfer(contactId);
    emulator.center.agentJoin(transferred, 'Kim');
    emulator.center.agentMessage(transferred, { content: 'Kim from billing here.' });
    emulator.center.agentLeave(transferred);
    emulator.center.systemMessage(transferred, 'Please rate this chat from 1 to 5.');
    await waitForTexts(customer, [
      'Sam has joined the chat.',
      'Let me transfer you.',
      'Kim has joined the chat.',
      'Kim from billing here.',
      'Please rate this chat from 1 to 5.',
    ]);
    expect(await redis.get(`{${prefix}}:conv:by-contact:${transferred}`)).toBe(
      conversationKey(customer).split(':').pop(),
    );
    // The customer's reply still reaches the transferred contact.
    await customerWrites(customer, 'transfer-2', 'Thanks Kim');
    expect(contactsOf(customer)).toHaveLength(1);
  });

  it('closes the conversation on chat.ended; the next customer message starts a new contact', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer, 'end-1');
    emulator.center.agentMessage(contactId, { content: 'Anything else?' });
    emulator.center.endChat(contactId);
    await waitForTexts(customer, [JOINED, 'Anything else?', 'The chat has ended.']);
    await eventually(
      'the conversation ended',
      async () => (await redis.hget(conversationKey(customer), 'st')) === 'ended',
      10_000,
    );
    const next = await customerWrites(customer, 'end-2', 'One more question');
    expect(next).not.toBe(contactId);
    expect(contactsOf(customer)).toHaveLength(2);
  });

  it("holds a new contact's items for the old contact's last items and ended notice SNS delivers late", async () => {
    const customer = newCustomer();
    const first = await chatWithSam(customer, 'late-end-1');
    // The agent's last message and the end never reach the bridge in time.
    emulator.faults.configure({ seed: 5, operations: {}, sns: { dropRate: 1, duplicateRate: 0 } });
    emulator.center.agentMessage(first, { content: 'Last words of the first chat' });
    emulator.center.endChat(first);
    emulator.faults.configure({ seed: 5, operations: {}, sns: { dropRate: 0, duplicateRate: 0 } });

    // Connect refuses the old participant, so the customer's message starts a new contact.
    const second = await customerWrites(customer, 'late-end-2', 'Are you still there?');
    expect(second).not.toBe(first);
    emulator.center.agentJoin(second, 'Sam');
    // Time enough for the new join notice to go out, were it not held.
    await settled();
    expect(await redis.hget(conversationKey(customer), 'ep')).toBe('1');
    expect(textsOf(customer)).toEqual([JOINED]);

    // SNS delivers the old contact's items at last: they go first, then the held notice.
    for (const item of contactsOf(customer)[0].transcript.slice(-2).reverse()) {
      emulator.center.restream(first, item.Id);
    }
    await waitForTexts(customer, [
      JOINED,
      'Last words of the first chat',
      'The chat has ended.',
      JOINED,
    ]);
    expect(await redis.hget(conversationKey(customer), 'ep')).toBeNull();
  });

  it('sends an agent file by URL', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer, 'file-1');
    emulator.center.agentAttachment(contactId, {
      name: 'invoice.pdf',
      contentType: 'application/pdf',
      content: Buffer.from('%PDF-1.7 invoice'),
    });
    await eventually('the file at the customer', () => received(customer).length === 2, 20_000);
    const message = received(customer)[1];
    expect(message.attachments).toEqual([
      { url: expect.any(String), contentType: 'application/pdf', name: 'invoice.pdf' },
    ]);
    const download = await fetch(message.attachments[0].url);
    expect(await download.text()).toBe('%PDF-1.7 invoice');
  });

  it('retries a provider 503, and fails a provider 400 with its reason while later messages go on', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer, 'fail-1');
    app.failNext({ status: 503 });
    emulator.center.agentMessage(contactId, { content: 'after a retry' });
    await waitForTexts(customer, [JOINED, 'after a retry']);
    app.failNext({ status: 400 });
    emulator.center.agentMessage(contactId, { content: 'refused for good' });
    emulator.center.agentMessage(contactId, { content: 'the next one' });
    await waitForTexts(customer, [JOINED, 'after a retry', 'the next one']);
    const trace = parseTrace(await redis.lrange(`${conversationKey(customer)}:trace`, 0, -1));
    expect(trace).toContainEqual(
      expect.objectContaining({
        event: 'retried',
        direction: 'outbound',
        reason: 'the callback answered HTTP 503',
      }),
    );
    expect(trace).toContainEqual(
      expect.objectContaining({
        event: 'failed',
        direction: 'outbound',
        reason: 'the callback answered HTTP 400',
      }),
    );
  });
});
