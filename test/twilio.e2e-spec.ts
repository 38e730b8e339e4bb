import { Redis } from 'ioredis';
import { conversationIdOf, parseTrace, type TraceEvent } from '../src/conversations';
import { playConversation, SCRIPT_FILES } from '../src/sandbox/conversation-script';
import { customerLine } from '../src/sandbox/customer-lines';
import type { Contact } from '../src/sandbox/emulator/model';
import { eventually } from '../src/sandbox/eventually';
import { Sandbox, SANDBOX_CREDENTIALS } from '../src/sandbox/sandbox';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';

const BUSINESS = '+15550199999';
const WAIT_MS = 15_000;

describe('Twilio channel (SMS, MMS, WhatsApp), end to end', () => {
  let sandbox: Sandbox;
  let redis: Redis;
  let webhookUrl: string;
  let customerCount = 0;

  beforeAll(async () => {
    sandbox = await Sandbox.start({
      logLevel: 'warn',
      bridgeEnv: { OUTBOUND_ATTEMPTS: '2', OUTBOUND_ORDER_WINDOW_MS: '50' },
    });
    redis = new Redis(sandbox.redisUrl);
    webhookUrl = `${sandbox.bridge.url}/webhooks/twilio`;
  });

  afterAll(async () => {
    redis?.disconnect();
    await sandbox?.close();
  });

  beforeEach(() => sandbox.twilio.clearFaults());

  const newCustomer = () => `+1555${String(3_000_000 + (customerCount += 1)).slice(-7)}`;
  const contactsOf = (customer: string): Contact[] =>
    sandbox.emulator.center
      .list()
      .filter((contact) => contact.attributes.customerAddress === customer);
  const transcriptOf = (customer: string) =>
    contactsOf(customer).flatMap((contact) => contact.transcript);
  const sentTo = (to: string) => sandbox.twilio.messages().filter((message) => message.to === to);
  const traceOf = async (channel: string, customer: string): Promise<TraceEvent[]> => {
    const id = conversationIdOf({ channel, customerAddress: customer, businessAddress: BUSINESS });
    return parseTrace(await redis.lrange(`{csb}:conv:${id}:trace`, 0, -1));
  };
  const storedKeys = async () => [
    ...(await redis.keys('{csb}:conv:*')),
    ...(await redis.keys('{csb}:relay:*')),
  ];
  /** Keys written since `before` (keys of earlier tests' conversations may expire meanwhile). */
  const newKeysSince = async (before: string[]) =>
    (await storedKeys()).filter((key) => !before.includes(key));

  async function customerTexts(from: string, body: string, extra: Record<string, string> = {}) {
    const { response, messageSid } = await sandbox.twilio.sendCustomerMessage(webhookUrl, {
      from,
      to: from.startsWith('whatsapp:') ? `whatsapp:${BUSINESS}` : BUSINESS,
      body,
      extra,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await response.text()).toContain('<Response/>');
    return messageSid;
  }

  /** The customer writes, Sam joins; answers the live contact id. */
  async function chatWithSam(customer: string): Promise<string> {
    await customerTexts(customer, `hello from ${customer}`);
    await eventually('the contact', () => contactsOf(customer).length === 1, WAIT_MS);
    const contactId = contactsOf(customer)[0].contactId;
    sandbox.emulator.center.agentJoin(contactId, 'Sam');
    await eventually(
      'the joined notice at the customer',
      () => sentTo(customer).some((message) => message.body === 'Sam has joined the chat.'),
      WAIT_MS,
    );
    return contactId;
  }

  it('plays a whole two-way conversation by SMS and MMS, with a file each way and delivery statuses', async () => {
    const line = customerLine(sandbox, 'twilio');
    await playConversation(sandbox, line, () => undefined);

    const contacts = contactsOf(line.address);
    expect(contacts).toHaveLength(2);
    expect(contacts[0].attributes).toMatchObject({
      channel: 'twilio:sms',
      customerAddress: line.address,
      businessAddress: BUSINESS,
    });
    const photo = transcriptOf(line.address).find(
      (item) => item.Type === 'ATTACHMENT' && item.ParticipantRole === 'CUSTOMER',
    );
    const uploaded = sandbox.emulator.center.download(photo!.Attachments![0].AttachmentId);
    expect(uploaded?.content).toEqual(SCRIPT_FILES.customerPhoto.content);
    expect(uploaded?.contentType).toBe('image/jpeg');
    // Twilio's media URLs need the account's credentials: a refused download would be a 401.
    expect(sandbox.twilio.mediaDownloads().map((download) => download.status)).toEqual([200]);

    // The new contact's greeting is the last send: reading the list before it would miss it.
    await eventually(
      'the second contact greeted',
      () =>
        sentTo(line.address).filter((message) =>
          message.body?.startsWith('Thanks for reaching out'),
        ).length === 2,
      WAIT_MS,
    );
    const sent = sentTo(line.address);
    expect(sent.every((message) => message.from === BUSINESS)).toBe(true);
    expect(sent.map((message) => message.body)).toContain(
      'Sorry about that, Ada. It left our warehouse today; it arrives tomorrow.',
    );
    const withFile = sent.find((message) => message.mediaUrls.length > 0)!;
    const file = await fetch(withFile.mediaUrls[0]);
    expect(Buffer.from(await file.arrayBuffer())).toEqual(SCRIPT_FILES.agentFile.content);
    expect(withFile.statusCallback).toBe(`${sandbox.bridge.url}/webhooks/twilio/status`);

    // Every send gets `sent` and `delivered` callbacks, each recorded in the trace.
    await eventually(
      'the delivery statuses in the trace',
      async () =>
        (await traceOf('twilio:sms', line.address)).filter(
          (event) => event.event === 'status' && event.status === 'delivered',
        ).length === sent.length,
      WAIT_MS,
    );
    // The fake records a callback once the bridge has answered it, after the trace write.
    await eventually(
      'every callback answered',
      () => sandbox.twilio.statusCallbacks().length >= sent.length * 2,
      WAIT_MS,
    );
    const callbacks = sandbox.twilio.statusCallbacks();
    expect(callbacks.every((callback) => callback.responseStatus === 200)).toBe(true);
    const trace = await traceOf('twilio:sms', line.address);
    const deliveredIds = trace
      .filter((event) => event.event === 'delivered')
      .map((event) => event.providerMessageId);
    expect(deliveredIds.sort()).toEqual(sent.map((message) => message.sid).sort());
  });

  it("sends every new customer the flow's greeting, however many contacts start at once", async () => {
    // The greeting streams as soon as the customer is connected, possibly before the bridge has
    // recorded the contact: it must still find its conversation.
    const customers = Array.from({ length: 20 }, () => newCustomer());
    await Promise.all(customers.map((customer) => customerTexts(customer, 'hello at once')));
    const greeted = (customer: string) =>
      sentTo(customer).some((message) => message.body?.startsWith('Thanks for reaching out'));
    await eventually('every customer greeted', () => customers.every(greeted), WAIT_MS);
    const metrics = await (await fetch(`${sandbox.bridge.url}/metrics`)).text();
    expect(metrics).not.toMatch(/connect_stream_events_total\{[^}]*outcome="not-ours"\} [1-9]/);
  });

  it('answers 401 to a wrong or missing signature, and stores nothing', async () => {
    const customer = newCustomer();
    const before = await storedKeys();
    const params = {
      MessageSid: `SM${'0'.repeat(32)}`,
      AccountSid: sandbox.twilio.accountSid,
      From: customer,
      To: BUSINESS,
      Body: 'forged',
      NumMedia: '0',
    };
    const forged = await sandbox.twilio.postSignedWebhook(webhookUrl, params, {
      authToken: 'not-the-auth-token',
    });
    expect(forged.status).toBe(401);
    const unsigned = await sandbox.twilio.postSignedWebhook(webhookUrl, params, {
      signature: null,
    });
    expect(unsigned.status).toBe(401);
    // Signed for another URL: the check covers the URL, not only the parameters.
    const elsewhere = await sandbox.twilio.postSignedWebhook(webhookUrl, params, {
      signature: getExpectedTwilioSignature(
        SANDBOX_CREDENTIALS.twilioAuthToken,
        `${sandbox.bridge.url}/webhooks/twilio/status`,
        params,
      ),
    });
    expect(elsewhere.status).toBe(401);
    expect(await newKeysSince(before)).toEqual([]);
    expect(contactsOf(customer)).toHaveLength(0);
    const metrics = await (await fetch(`${sandbox.bridge.url}/metrics`)).text();
    expect(metrics).toMatch(
      /^csb_webhook_rejections_total\{webhook="twilio",reason="signature"\} 3$/m,
    );
  });

  it('answers 400 to a webhook of another account, and stores nothing', async () => {
    const customer = newCustomer();
    const before = await storedKeys();
    const { response } = await sandbox.twilio.sendCustomerMessage(webhookUrl, {
      from: customer,
      to: BUSINESS,
      body: 'from another account',
      extra: { AccountSid: `AC${'f'.repeat(32)}` },
    });
    expect(response.status).toBe(400);
    expect(await newKeysSince(before)).toEqual([]);
  });

  it('delivers a redelivered MessageSid once', async () => {
    const customer = newCustomer();
    const sid = await customerTexts(customer, 'only once');
    const again = await sandbox.twilio.sendCustomerMessage(webhookUrl, {
      from: customer,
      to: BUSINESS,
      body: 'only once',
      messageSid: sid,
    });
    expect(again.response.status).toBe(200);
    await eventually(
      'the message at Connect',
      () => transcriptOf(customer).some((item) => item.Content === 'only once'),
      WAIT_MS,
    );
    await customerTexts(customer, 'and then this');
    await eventually(
      'the next message at Connect',
      () => transcriptOf(customer).some((item) => item.Content === 'and then this'),
      WAIT_MS,
    );
    expect(transcriptOf(customer).filter((item) => item.Content === 'only once')).toHaveLength(1);
  });

  it('takes WhatsApp through Twilio: its own channel, the profile name, answers from the whatsapp: address', async () => {
    const number = newCustomer();
    const customer = `whatsapp:${number}`;
    await customerTexts(customer, 'hola', { ProfileName: 'Grace' });
    await eventually('the contact', () => contactsOf(number).length === 1, WAIT_MS);
    const [contact] = contactsOf(number);
    sandbox.emulator.center.agentJoin(contact.contactId, 'Sam');
    expect(contact.attributes).toMatchObject({
      channel: 'twilio:whatsapp',
      customerAddress: number,
      businessAddress: BUSINESS,
    });
    expect(transcriptOf(number).find((item) => item.Content === 'hola')?.DisplayName).toBe('Grace');
    sandbox.emulator.center.agentMessage(contact.contactId, { content: 'Hi Grace' });
    const answered = () => sentTo(customer).find((message) => message.body === 'Hi Grace');
    await eventually('the answer', () => answered() !== undefined, WAIT_MS);
    const answer = answered();
    expect(answer?.from).toBe(`whatsapp:${BUSINESS}`);
  });

  it('fails a refused send (21610) with its code in the trace, and the next message goes on', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer);
    sandbox.twilio.failNext({ status: 400, code: 21610 });
    sandbox.emulator.center.agentMessage(contactId, { content: 'refused by the carrier' });
    sandbox.emulator.center.agentMessage(contactId, { content: 'the next one' });
    await eventually(
      'the next message at the customer',
      () => sentTo(customer).some((message) => message.body === 'the next one'),
      WAIT_MS,
    );
    expect(sentTo(customer).some((message) => message.body === 'refused by the carrier')).toBe(
      false,
    );
    const failed = (await traceOf('twilio:sms', customer)).find(
      (event) => event.event === 'failed' && event.direction === 'outbound',
    );
    expect(failed?.reason).toContain(
      'Twilio error 21610: Attempt to send to unsubscribed recipient (HTTP 400)',
    );
  });

  it('retries throttling (429) and sends the message once', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer);
    sandbox.twilio.failNext({ status: 429 });
    sandbox.emulator.center.agentMessage(contactId, { content: 'after a retry' });
    await eventually(
      'the retried message',
      () => sentTo(customer).some((message) => message.body === 'after a retry'),
      WAIT_MS,
    );
    expect(sentTo(customer).filter((message) => message.body === 'after a retry')).toHaveLength(1);
    const trace = await traceOf('twilio:sms', customer);
    expect(trace.some((event) => event.event === 'retried' && event.direction === 'outbound')).toBe(
      true,
    );
  });

  it('records an undelivered status with its error code', async () => {
    const customer = newCustomer();
    const contactId = await chatWithSam(customer);
    sandbox.twilio.failNextDelivery({ errorCode: 30003 });
    sandbox.emulator.center.agentMessage(contactId, { content: 'to a switched-off phone' });
    await eventually(
      'the undelivered status in the trace',
      async () =>
        (await traceOf('twilio:sms', customer)).some(
          (event) => event.event === 'status' && event.status === 'undelivered',
        ),
      WAIT_MS,
    );
    const sid = sentTo(customer).find((message) => message.body === 'to a switched-off phone')!.sid;
    const undelivered = (await traceOf('twilio:sms', customer)).find(
      (event) => event.status === 'undelivered',
    );
    expect(undelivered).toMatchObject({ providerMessageId: sid, direction: 'outbound' });
    expect(undelivered?.reason).toMatch(/^Twilio error 30003: Unreachable destination handset/);
    const metrics = await (await fetch(`${sandbox.bridge.url}/metrics`)).text();
    expect(metrics).toMatch(
      /channel_delivery_statuses_total\{channel="twilio:sms",status="undelivered"\} [1-9]/,
    );
    expect(metrics).toMatch(/^csb_active_conversations [1-9]\d*$/m);
    expect(metrics).toMatch(
      /^csb_messages_relayed_total\{direction="inbound",channel="twilio:sms",outcome="delivered"\} [1-9]\d*$/m,
    );
    expect(metrics).toMatch(
      /^csb_relay_latency_seconds_count\{direction="outbound",channel="twilio:sms"\} [1-9]\d*$/m,
    );
    expect(metrics).toMatch(
      /^csb_connect_api_calls_total\{operation="SendMessage",outcome="ok"\} [1-9]\d*$/m,
    );
  });
});
