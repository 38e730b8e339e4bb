import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BridgeProcess } from '../src/sandbox/bridge-process';
import { eventually } from '../src/sandbox/eventually';
import { ConnectEmulator, EMULATOR_DEFAULTS } from '../src/sandbox/emulator';
import { sendGenericMessage } from '../src/sandbox/generic-customer';
import type { ChatItem } from '../src/sandbox/emulator/model';
import { Redis } from 'ioredis';
import { conversationIdOf, parseTrace } from '../src/conversations';
import { emulatedBridgeEnv, sharedRedisUrl } from './support/env';

const SECRET = 'generic-webhook-secret-for-tests';

describe('customer → Connect through the generic channel', () => {
  let emulator: ConnectEmulator;
  let bridges: BridgeProcess[];
  let files: Server;
  let filesUrl: string;
  let customerCount = 0;
  const prefix = `inbound${Date.now()}`;

  beforeAll(async () => {
    emulator = await ConnectEmulator.start();
    const env = emulatedBridgeEnv(emulator, {
      REDIS_KEY_PREFIX: prefix,
      GENERIC_WEBHOOK_SECRET: SECRET,
      LOG_LEVEL: 'warn',
    });
    bridges = await Promise.all([BridgeProcess.start(env), BridgeProcess.start(env)]);
    files = createServer((req, res) => {
      if (req.url === '/photo.png')
        res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([137, 80, 78, 71]));
      else if (req.url === '/tool.exe')
        res.writeHead(200, { 'content-type': 'application/x-msdownload' }).end('MZ');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.all((bridges ?? []).map((bridge) => bridge.stop()));
    await emulator?.close();
    await new Promise((resolve) => files?.close(resolve));
  });

  const newCustomer = () => `+1555${String(1_000_000 + (customerCount += 1)).slice(-7)}`;
  const send = async (
    from: string,
    messageId: string,
    extra: Record<string, unknown> = {},
    bridge = bridges[0],
  ) => {
    const res = await sendGenericMessage(bridge.url, SECRET, {
      messageId,
      from,
      to: '+15559990000',
      text: `text of ${messageId}`,
      ...extra,
    });
    expect(res.status).toBe(200);
  };
  const contactsOf = (customer: string) =>
    emulator.center.list().filter((contact) => contact.attributes.customerAddress === customer);
  const customerMessages = (customer: string): ChatItem[] =>
    contactsOf(customer)
      .flatMap((contact) => contact.transcript)
      .filter((item) => item.ParticipantRole === 'CUSTOMER' && item.Type !== 'EVENT');
  const texts = (customer: string) => customerMessages(customer).map((item) => item.Content);
  const waitForTexts = (customer: string, count: number, withinMs = 20_000) =>
    eventually(
      `${count} messages of ${customer} at Connect`,
      () => texts(customer).length >= count,
      withinMs,
    );

  it('starts one contact with the calls in the documented order and delivers the message', async () => {
    const customer = newCustomer();
    const before = emulator.requests().length;
    await send(customer, 'first-1', { displayName: 'Ada' });
    await waitForTexts(customer, 1);
    const calls = emulator
      .requests()
      .slice(before)
      .map((request) => request.operation);
    expect(calls).toEqual([
      'StartChatContact',
      'StartContactStreaming',
      'CreateParticipantConnection',
      'SendMessage',
    ]);
    const [start, streaming, connection] = emulator.requests().slice(before);
    expect(start.body).toMatchObject({
      InstanceId: emulator.instanceId,
      ContactFlowId: EMULATOR_DEFAULTS.contactFlowId,
      ParticipantDetails: { DisplayName: 'Ada' },
      Attributes: {
        channel: 'generic:app',
        customerAddress: customer,
        businessAddress: '+15559990000',
      },
      ClientToken: expect.any(String),
    });
    expect(streaming.body).toMatchObject({
      ChatStreamingConfiguration: { StreamingEndpointArn: emulator.topicArn },
    });
    expect(connection.body).toEqual({ ConnectParticipant: true, Type: ['CONNECTION_CREDENTIALS'] });
    expect(contactsOf(customer)).toHaveLength(1);
    expect(texts(customer)).toEqual(['text of first-1']);
  });

  it('delivers a webhook received three times once', async () => {
    const customer = newCustomer();
    for (let i = 0; i < 3; i += 1) await send(customer, 'dup-1', {}, bridges[i % 2]);
    await send(customer, 'dup-2');
    await waitForTexts(customer, 2);
    expect(texts(customer)).toEqual(['text of dup-1', 'text of dup-2']);
  });

  it('splits a 2 500-character message into three ordered parts', async () => {
    const customer = newCustomer();
    const words = Array.from({ length: 500 }, (_, i) => `w${String(i).padStart(3, '0')}`).join(' ');
    await send(customer, 'long-1', { text: words });
    await waitForTexts(customer, 3);
    const parts = texts(customer) as string[];
    expect(parts).toHaveLength(3);
    expect(parts.join(' ')).toBe(words);
  });

  it('refreshes an expired connection token and loses nothing', async () => {
    const customer = newCustomer();
    await send(customer, 'refresh-1');
    await waitForTexts(customer, 1);
    const [contact] = contactsOf(customer);
    emulator.center.expireCredentials(contact.contactId);
    const connectionsBefore = emulator.requests('CreateParticipantConnection').length;
    await send(customer, 'refresh-2');
    await waitForTexts(customer, 2);
    expect(texts(customer)).toEqual(['text of refresh-1', 'text of refresh-2']);
    expect(contactsOf(customer)).toHaveLength(1);
    expect(emulator.requests('CreateParticipantConnection').length).toBe(connectionsBefore + 1);

    const id = conversationIdOf({
      channel: 'generic:app',
      customerAddress: customer,
      businessAddress: '+15559990000',
    });
    const redis = new Redis(sharedRedisUrl());
    const trace = parseTrace(await redis.lrange(`{${prefix}}:conv:${id}:trace`, 0, -1));
    redis.disconnect();
    expect(trace.map((entry) => entry.event)).toEqual([
      'received',
      'contact-started',
      'sent',
      'received',
      'credentials-refreshed',
      'sent',
    ]);
    const sentIds = customerMessages(customer).map((item) => item.Id);
    expect(
      trace.filter((entry) => entry.event === 'sent').map((entry) => entry.connectMessageId),
    ).toEqual(sentIds);
  });

  it('starts a new contact for the next message once the contact has ended', async () => {
    const customer = newCustomer();
    await send(customer, 'ended-1');
    await waitForTexts(customer, 1);
    emulator.center.endChat(contactsOf(customer)[0].contactId);
    await send(customer, 'ended-2');
    await waitForTexts(customer, 2);
    const contacts = contactsOf(customer);
    expect(contacts).toHaveLength(2);
    expect(contacts[1].transcript.find((item) => item.Type === 'MESSAGE')?.Content).toBe(
      'text of ended-2',
    );
  });

  it('uploads an attachment, and tells the agent about one Connect refuses', async () => {
    const customer = newCustomer();
    await send(customer, 'files-1', {
      text: 'two files',
      attachments: [
        { url: `${filesUrl}/photo.png`, contentType: 'image/png', name: 'photo.png' },
        { url: `${filesUrl}/tool.exe`, contentType: 'application/x-msdownload', name: 'tool.exe' },
      ],
    });
    await waitForTexts(customer, 3);
    const items = customerMessages(customer);
    expect(items.map((item) => item.Type)).toEqual(['MESSAGE', 'ATTACHMENT', 'MESSAGE']);
    expect(items[1].Attachments?.[0]).toMatchObject({
      AttachmentName: 'photo.png',
      ContentType: 'image/png',
    });
    expect(items[2].Content).toContain('tool.exe');
  });

  it('makes exactly one contact for 50 simultaneous first messages across two processes', async () => {
    const customer = newCustomer();
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => send(customer, `burst-${i}`, {}, bridges[i % 2])),
    );
    await waitForTexts(customer, 50, 30_000);
    expect(contactsOf(customer)).toHaveLength(1);
    const delivered = texts(customer);
    expect(new Set(delivered).size).toBe(50);
    expect(delivered).toHaveLength(50);
  });

  it('delivers everything in order with 30% throttling injected', async () => {
    emulator.faults.configure({
      seed: 30,
      operations: { SendMessage: { throttleRate: 0.3 }, StartChatContact: { throttleRate: 0.3 } },
      sns: { dropRate: 0, duplicateRate: 0 },
    });
    try {
      const customers = Array.from({ length: 5 }, newCustomer);
      await Promise.all(
        customers.map(async (customer) => {
          for (let i = 0; i < 10; i += 1) await send(customer, `throttled-${customer}-${i}`);
        }),
      );
      for (const customer of customers) {
        await waitForTexts(customer, 10, 60_000);
        expect(texts(customer)).toEqual(
          Array.from({ length: 10 }, (_, i) => `text of throttled-${customer}-${i}`),
        );
      }
      expect(emulator.requests('SendMessage').some((request) => request.status === 429)).toBe(true);
    } finally {
      emulator.faults.configure({
        seed: 1,
        operations: {},
        sns: { dropRate: 0, duplicateRate: 0 },
      });
    }
  });

  it('keeps 200 conversations × 20 messages complete, once each and in order', async () => {
    const customers = Array.from({ length: 200 }, newCustomer);
    await Promise.all(
      customers.map(async (customer, c) => {
        for (let i = 0; i < 20; i += 1)
          await send(customer, `bulk-${c}-${i}`, {}, bridges[(c + i) % 2]);
      }),
    );
    await eventually(
      'every transcript complete',
      () => customers.every((customer) => texts(customer).length >= 20),
      120_000,
    );
    for (const [c, customer] of customers.entries()) {
      expect(texts(customer)).toEqual(
        Array.from({ length: 20 }, (_, i) => `text of bulk-${c}-${i}`),
      );
    }
  }, 180_000);
});
