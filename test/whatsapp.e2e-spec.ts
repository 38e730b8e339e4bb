import { Redis } from 'ioredis';
import { createHmac } from 'node:crypto';
import { conversationIdOf, parseTrace, type TraceEvent } from '../src/conversations';
import { playConversation, SCRIPT_FILES } from '../src/sandbox/conversation-script';
import { customerLine, SANDBOX_PHONE_NUMBER_ID } from '../src/sandbox/customer-lines';
import type { Contact } from '../src/sandbox/emulator/model';
import { eventually } from '../src/sandbox/eventually';
import type { WhatsAppInboundContent } from '../src/sandbox/providers';
import { Sandbox, SANDBOX_CREDENTIALS } from '../src/sandbox/sandbox';

const CHANNEL = 'meta:whatsapp';
const WAIT_MS = 15_000;
/** A second business number of the same WhatsApp Business Account. */
const OTHER_PHONE_NUMBER_ID = '109876543210987';
/** The contact flow's greeting, the first item of every contact. */
const GREETING = 'Thanks for reaching out. An agent will be with you shortly.';
const JOINED = 'Sam has joined the chat.';

interface WebhookOutcome {
  accepted: number;
  duplicates: number;
  statuses: number;
}

describe('WhatsApp Cloud API channel, end to end', () => {
  let sandbox: Sandbox;
  let redis: Redis;
  let webhookUrl: string;
  let customerCount = 0;
  let wamidCount = 0;

  beforeAll(async () => {
    sandbox = await Sandbox.start({
      logLevel: 'warn',
      bridgeEnv: { OUTBOUND_ATTEMPTS: '3', OUTBOUND_ORDER_WINDOW_MS: '50' },
    });
    redis = new Redis(sandbox.redisUrl);
    webhookUrl = `${sandbox.bridge.url}/webhooks/whatsapp`;
  }, 90_000);

  afterAll(async () => {
    redis?.disconnect();
    await sandbox?.close();
  }, 30_000);

  beforeEach(() => sandbox.whatsapp.clearFaults());

  /** A customer of their own for each test: a wa_id (digits, no `+`). */
  const newWaId = () => `1555020${String(1_000 + (customerCount += 1)).slice(-4)}`;
  const newWamid = () => `wamid.e2e-${Date.now()}-${(wamidCount += 1)}`;
  const addressOf = (waId: string) => `+${waId}`;

  const contactsOf = (waId: string): Contact[] =>
    sandbox.emulator.center
      .list()
      .filter((contact) => contact.attributes.customerAddress === addressOf(waId));
  const customerItems = (contact: Contact) =>
    contact.transcript.filter((item) => item.ParticipantRole === 'CUSTOMER');
  const customerTextsAtConnect = (waId: string) =>
    contactsOf(waId)
      .flatMap(customerItems)
      .filter((item) => item.Type === 'MESSAGE')
      .map((item) => item.Content);
  const liveContactOf = (waId: string) => {
    const live = contactsOf(waId).find((contact) => contact.endedAt === undefined);
    if (!live) throw new Error(`no live contact for ${waId}`);
    return live.contactId;
  };
  /** What the bridge sent to the customer through the fake Graph API, oldest first. */
  const sentTo = (waId: string) =>
    sandbox.whatsapp.messages().filter((message) => message.to === addressOf(waId));
  const textsSentTo = (waId: string) => sentTo(waId).map((message) => message.text);

  const conversationId = (waId: string, phoneNumberId = SANDBOX_PHONE_NUMBER_ID) =>
    conversationIdOf({
      channel: CHANNEL,
      customerAddress: addressOf(waId),
      businessAddress: phoneNumberId,
    });
  const traceOf = async (waId: string, phoneNumberId?: string): Promise<TraceEvent[]> => {
    const key = `{csb}:conv:${conversationId(waId, phoneNumberId)}:trace`;
    return parseTrace(await redis.lrange(key, 0, -1));
  };
  const storedKeys = async () =>
    [...(await redis.keys('{csb}:conv:*')), ...(await redis.keys('{csb}:relay:*'))].sort();
  /** Every key a message of `waId` (with id `wamid`) would have left, if it had been accepted. */
  const keysOf = (waId: string, wamid: string) => {
    const id = conversationId(waId);
    const job = encodeURIComponent(`${CHANNEL}/${wamid}`);
    return [
      `{csb}:conv:${id}`,
      `{csb}:conv:${id}:trace`,
      `{csb}:conv:by-customer:${addressOf(waId)}`,
      `{csb}:relay:in:${job}`,
      `{csb}:relay:in-lane:${id}`,
      `{csb}:inbound:${job}`,
    ];
  };
  const metrics = async () => (await fetch(`${sandbox.bridge.url}/metrics`)).text();

  /** Nothing is on its way to a customer: SNS has delivered everything, every lane is empty. */
  async function outboundSettled() {
    await sandbox.emulator.sns.idle();
    await eventually(
      'every outbound lane is empty',
      async () => (await redis.keys('{csb}:relay:out-lane:*')).length === 0,
      WAIT_MS,
    );
  }

  async function postSigned(payload: unknown): Promise<WebhookOutcome> {
    const res = await sandbox.whatsapp.postSignedWebhook(payload);
    expect(res.status).toBe(200);
    return (await res.json()) as WebhookOutcome;
  }

  /** The customer writes `content` (a text by default); answers the bridge's answer. */
  async function customerSends(
    waId: string,
    content: WhatsAppInboundContent | string,
    options: { id?: string; profileName?: string } = {},
  ): Promise<{ wamid: string; outcome: WebhookOutcome }> {
    const { wamid, response } = await sandbox.whatsapp.sendCustomerMessage({
      from: waId,
      phoneNumberId: SANDBOX_PHONE_NUMBER_ID,
      profileName: options.profileName ?? `Customer ${waId.slice(-4)}`,
      content: typeof content === 'string' ? { type: 'text', text: { body: content } } : content,
      id: options.id,
    });
    expect(response.status).toBe(200);
    return { wamid, outcome: (await response.json()) as WebhookOutcome };
  }

  const atConnect = (waId: string, text: string) =>
    eventually(`"${text}" at Connect`, () => customerTextsAtConnect(waId).includes(text), WAIT_MS);
  const atCustomer = (waId: string, text: string) =>
    eventually(`"${text}" at ${waId}`, () => textsSentTo(waId).includes(text), WAIT_MS);

  /**
   * The customer writes, the contact starts, and agent Sam joins; answers the contact id once
   * the customer saw Sam join and nothing else is on its way.
   */
  async function chatWithSam(waId: string): Promise<string> {
    const text = `Hello from ${waId}`;
    await customerSends(waId, text);
    await atConnect(waId, text);
    const contactId = liveContactOf(waId);
    sandbox.emulator.center.agentJoin(contactId, 'Sam');
    await atCustomer(waId, JOINED);
    await outboundSettled();
    return contactId;
  }

  function agentWrites(contactId: string, content: string) {
    sandbox.emulator.center.agentMessage(contactId, { content });
  }

  it("answers Meta's verification handshake: the challenge for the right token, 403 otherwise", async () => {
    const verification = await sandbox.whatsapp.verifyWebhook(
      SANDBOX_CREDENTIALS.whatsappVerifyToken,
    );
    expect(verification.status).toBe(200);
    expect(verification.body).toBe(verification.challenge);
    expect(verification.verified).toBe(true);

    const query = (token: string, mode = 'subscribe') =>
      `${webhookUrl}?${new URLSearchParams({
        'hub.mode': mode,
        'hub.challenge': '1158201444',
        'hub.verify_token': token,
      }).toString()}`;
    const wrong = await fetch(query('not-the-verify-token'));
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).not.toContain('1158201444');
    const wrongMode = await fetch(query(SANDBOX_CREDENTIALS.whatsappVerifyToken, 'unsubscribe'));
    expect(wrongMode.status).toBe(403);
    const right = await fetch(query(SANDBOX_CREDENTIALS.whatsappVerifyToken));
    expect(right.status).toBe(200);
    expect(right.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await right.text()).toBe('1158201444');
  });

  it('plays a whole two-way conversation with a file each way', async () => {
    const customer = customerLine(sandbox, 'whatsapp');
    const waId = customer.address.slice(1);
    const printed: string[] = [];
    await playConversation(sandbox, customer, (line) => printed.push(line));

    // At Connect: two contacts (the second after the agent ended the first), on this channel.
    const contacts = contactsOf(waId);
    expect(contacts).toHaveLength(2);
    for (const contact of contacts) {
      expect(contact.attributes).toMatchObject({
        channel: CHANNEL,
        customerAddress: customer.address,
        businessAddress: SANDBOX_PHONE_NUMBER_ID,
      });
      const customerParticipant = contact.participants.find((p) => p.role === 'CUSTOMER');
      expect(customerParticipant?.displayName).toBe('Ada');
    }
    expect(customerTextsAtConnect(waId)).toEqual([
      'Hi! My order #1042 has not arrived yet.',
      'Here is the label on the parcel I got instead.',
      'Great, thank you!',
      'One more thing: can I change the delivery address?',
    ]);
    const files = contacts
      .flatMap(customerItems)
      .filter((item) => item.Type === 'ATTACHMENT')
      .flatMap((item) => item.Attachments ?? []);
    expect(files).toHaveLength(1);
    expect(files[0].ContentType).toBe(SCRIPT_FILES.customerPhoto.contentType);
    const stored = sandbox.emulator.center.download(files[0].AttachmentId);
    expect(stored?.content?.equals(SCRIPT_FILES.customerPhoto.content)).toBe(true);
    // The lookup and the download both carry the access token: the fake answers 401 without it
    // (and the lookup is what gave the download URL).
    const downloads = sandbox.whatsapp.mediaDownloads();
    expect(downloads.length).toBeGreaterThanOrEqual(1);
    expect(downloads.every((download) => download.status === 200)).toBe(true);

    // At the customer: the markdown answer as plain text, the agent's file as a document.
    expect(textsSentTo(waId)).toContain(
      'Sorry about that, Ada. It left our warehouse today; it arrives tomorrow.',
    );
    expect(textsSentTo(waId).some((text) => text?.includes('**'))).toBe(false);
    const documents = sentTo(waId).filter((message) => message.type === 'document');
    expect(documents).toHaveLength(1);
    const [document] = documents;
    expect(document.phoneNumberId).toBe(SANDBOX_PHONE_NUMBER_ID);
    expect(document.accessToken).toBe(SANDBOX_CREDENTIALS.whatsappAccessToken);
    expect(document.media?.filename).toBe(SCRIPT_FILES.agentFile.name);
    const file = await fetch(document.media!.link!);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(SCRIPT_FILES.agentFile.content)).toBe(true);

    // Nothing is on its way to the customer any more (the second contact's greeting included).
    await outboundSettled();

    // Delivery statuses: every one answered 200, each in the trace under its wamid.
    const wamids = sentTo(waId).map((message) => message.id);
    const expectedStatuses = wamids.length * 2;
    await eventually(
      'the sent and delivered statuses of every message posted',
      () =>
        sandbox.whatsapp.statusWebhooks().filter((webhook) => wamids.includes(webhook.wamid))
          .length === expectedStatuses,
      WAIT_MS,
    );
    const webhooks = sandbox.whatsapp
      .statusWebhooks()
      .filter((webhook) => wamids.includes(webhook.wamid));
    expect(webhooks.map((webhook) => webhook.responseStatus)).toEqual(
      Array(expectedStatuses).fill(200),
    );
    await eventually(
      'every status in the conversation trace',
      async () =>
        (await traceOf(waId)).filter((event) => event.event === 'status').length ===
        expectedStatuses,
      WAIT_MS,
    );
    const statuses = (await traceOf(waId)).filter((event) => event.event === 'status');
    for (const wamid of wamids) {
      for (const status of ['sent', 'delivered']) {
        expect(statuses).toContainEqual(
          expect.objectContaining({ direction: 'outbound', providerMessageId: wamid, status }),
        );
      }
    }
    // The send of the document is traced with the wamid WhatsApp gave it.
    expect(await traceOf(waId)).toContainEqual(
      expect.objectContaining({
        event: 'delivered',
        direction: 'outbound',
        providerMessageId: document.id,
      }),
    );
  }, 120_000);

  it('refuses a missing, forged or foreign X-Hub-Signature-256 with 401 and stores nothing', async () => {
    await outboundSettled();
    const waId = newWaId();
    const wamid = newWamid();
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: {
                  display_phone_number: '15550199999',
                  phone_number_id: SANDBOX_PHONE_NUMBER_ID,
                },
                contacts: [{ profile: { name: 'Mallory' }, wa_id: waId }],
                messages: [
                  {
                    from: waId,
                    id: wamid,
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    type: 'text',
                    text: { body: 'forged' },
                  },
                ],
              },
            },
          ],
        },
      ],
    };
    const body = JSON.stringify(payload);
    const hmac = (secret: string, text: string) =>
      createHmac('sha256', secret).update(text).digest('hex');
    const tampered = body.replace('forged', 'tampered');
    const before = await storedKeys();

    const attempts: [string, string, string | null][] = [
      ['no signature', body, null],
      ['an empty signature', body, ''],
      ['signed with another secret', body, `sha256=${hmac('another-app-secret', body)}`],
      [
        'the signature of another body',
        tampered,
        `sha256=${hmac(SANDBOX_CREDENTIALS.whatsappAppSecret, body)}`,
      ],
      [
        'the right HMAC without its sha256= prefix',
        body,
        hmac(SANDBOX_CREDENTIALS.whatsappAppSecret, body),
      ],
      [
        'a SHA-1 signature',
        body,
        `sha1=${createHmac('sha1', SANDBOX_CREDENTIALS.whatsappAppSecret).update(body).digest('hex')}`,
      ],
    ];
    for (const [what, sent, signature] of attempts) {
      const res = await sandbox.whatsapp.postSignedWebhook(sent, { signature });
      expect({ what, status: res.status }).toEqual({ what, status: 401 });
    }

    expect(await storedKeys()).toEqual(before);
    expect(await redis.exists(...keysOf(waId, wamid))).toBe(0);
    expect(contactsOf(waId)).toEqual([]);

    // The control: the same body, signed with the app secret, is taken and leaves those keys.
    expect(await postSigned(body)).toEqual({ accepted: 1, duplicates: 0, statuses: 0 });
    const [record, trace, byCustomer, messageRecord] = keysOf(waId, wamid);
    await atConnect(waId, 'forged');
    expect(await redis.exists(record, trace, byCustomer, messageRecord)).toBe(4);
  });

  it('answers 400 to a body that is not a WhatsApp Business Account webhook, and stores nothing', async () => {
    await outboundSettled();
    const waId = newWaId();
    const wamid = newWamid();
    const value = {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550199999', phone_number_id: SANDBOX_PHONE_NUMBER_ID },
      contacts: [{ profile: { name: 'Page' }, wa_id: waId }],
      messages: [
        {
          from: waId,
          id: wamid,
          timestamp: String(Math.floor(Date.now() / 1000)),
          type: 'text',
          text: { body: 'not for WhatsApp' },
        },
      ],
    };
    const before = await storedKeys();
    const bodies: unknown[] = [
      { object: 'page', entry: [{ id: '1', changes: [{ field: 'messages', value }] }] },
      { object: 'whatsapp_business_account' },
      { object: 'whatsapp_business_account', entry: 'not a list' },
    ];
    for (const body of bodies) {
      const res = await sandbox.whatsapp.postSignedWebhook(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    expect(await storedKeys()).toEqual(before);
    expect(await redis.exists(...keysOf(waId, wamid))).toBe(0);
    expect(contactsOf(waId)).toEqual([]);
  });

  it('takes a batch of two entries, for two business numbers, as two conversations in order', async () => {
    const first = newWaId();
    const second = newWaId();
    const now = Math.floor(Date.now() / 1000);
    const text = (from: string, body: string, offset: number) => ({
      from,
      id: newWamid(),
      timestamp: String(now + offset),
      type: 'text',
      text: { body },
    });
    const change = (
      phoneNumberId: string,
      values: Record<string, unknown>,
    ): { field: string; value: Record<string, unknown> } => ({
      field: 'messages',
      value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '15550199999', phone_number_id: phoneNumberId },
        ...values,
      },
    });
    const firstTexts = ['batch: first 1', 'batch: first 2', 'batch: first 3'];
    const secondTexts = ['batch: second 1', 'batch: second 2'];
    const batch = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            change(SANDBOX_PHONE_NUMBER_ID, {
              contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: first }],
              messages: firstTexts.map((body, i) => text(first, body, i)),
            }),
          ],
        },
        {
          id: '104996122399160',
          changes: [
            change(OTHER_PHONE_NUMBER_ID, {
              contacts: [{ profile: { name: 'Lee Jen Ling' }, wa_id: second }],
              messages: secondTexts.map((body, i) => text(second, body, i)),
            }),
            // A status of a message the bridge never sent: no conversation, not recorded.
            change(OTHER_PHONE_NUMBER_ID, {
              statuses: [
                {
                  id: newWamid(),
                  status: 'read',
                  timestamp: String(now),
                  recipient_id: newWaId(),
                },
              ],
            }),
          ],
        },
      ],
    };

    expect(await postSigned(batch)).toEqual({ accepted: 5, duplicates: 0, statuses: 0 });

    await atConnect(first, firstTexts[2]);
    await atConnect(second, secondTexts[1]);
    for (const [waId, texts, phoneNumberId, name] of [
      [first, firstTexts, SANDBOX_PHONE_NUMBER_ID, 'Sheena Nelson'],
      [second, secondTexts, OTHER_PHONE_NUMBER_ID, 'Lee Jen Ling'],
    ] as const) {
      const contacts = contactsOf(waId);
      expect(contacts).toHaveLength(1);
      expect(contacts[0].attributes).toMatchObject({
        channel: CHANNEL,
        businessAddress: phoneNumberId,
      });
      expect(contacts[0].participants.find((p) => p.role === 'CUSTOMER')?.displayName).toBe(name);
      expect(customerTextsAtConnect(waId)).toEqual(texts);
      expect(await redis.exists(`{csb}:conv:${conversationId(waId, phoneNumberId)}`)).toBe(1);
    }
    // The agent's answers go out from the business number the customer wrote to.
    for (const [waId, phoneNumberId] of [
      [first, SANDBOX_PHONE_NUMBER_ID],
      [second, OTHER_PHONE_NUMBER_ID],
    ] as const) {
      const contactId = liveContactOf(waId);
      sandbox.emulator.center.agentJoin(contactId, 'Sam');
      agentWrites(contactId, `Answer for ${waId}`);
      await atCustomer(waId, `Answer for ${waId}`);
      expect(sentTo(waId).find((message) => message.text === `Answer for ${waId}`)).toMatchObject({
        phoneNumberId,
        to: addressOf(waId),
      });
      expect(sentTo(waId).every((message) => message.phoneNumberId === phoneNumberId)).toBe(true);
    }
  });

  it('tells the agent about a message of a type it cannot show, instead of refusing it', async () => {
    const waId = newWaId();
    const order = await customerSends(waId, {
      type: 'order',
      order: {
        catalog_id: '194836987003835',
        product_items: [
          { product_retailer_id: 'di9ozbzfi4', quantity: 1, item_price: 30, currency: 'USD' },
        ],
      },
    });
    expect(order.outcome).toEqual({ accepted: 1, duplicates: 0, statuses: 0 });
    const unsupported = await customerSends(waId, {
      type: 'unsupported',
      errors: [
        {
          code: 131051,
          title: 'Message type unknown',
          message: 'Message type unknown',
          error_data: { details: 'Message type is currently not supported.' },
        },
      ],
      unsupported: { type: 'poll_creation' },
    });
    expect(unsupported.outcome).toEqual({ accepted: 1, duplicates: 0, statuses: 0 });
    await customerSends(waId, 'and a text after them');

    const notices = [
      'The customer sent a WhatsApp message that cannot be shown here (type: order).',
      'The customer sent a WhatsApp message that cannot be shown here (type: poll_creation).',
    ];
    await atConnect(waId, 'and a text after them');
    expect(customerTextsAtConnect(waId)).toEqual([...notices, 'and a text after them']);
    expect(sandbox.bridge.running).toBe(true);
  });

  it('delivers a redelivered webhook (the same wamid twice) to Connect once', async () => {
    const waId = newWaId();
    const wamid = newWamid();
    const first = await customerSends(waId, 'said once', { id: wamid });
    expect(first.outcome).toEqual({ accepted: 1, duplicates: 0, statuses: 0 });
    const again = await customerSends(waId, 'said once', { id: wamid });
    expect(again.outcome).toEqual({ accepted: 0, duplicates: 1, statuses: 0 });
    // A later message comes after the copy in the conversation's lane, had it been queued.
    await customerSends(waId, 'and then this');
    await atConnect(waId, 'and then this');
    expect(customerTextsAtConnect(waId)).toEqual(['said once', 'and then this']);
    const received = (await traceOf(waId)).filter(
      (event) => event.event === 'received' && event.providerMessageId === wamid,
    );
    expect(received).toHaveLength(1);
  });

  it('records a send refused outside the 24-hour window (131047) and goes on with the next', async () => {
    const waId = newWaId();
    const contactId = await chatWithSam(waId);
    sandbox.whatsapp.failNext({ status: 400, code: 131047 });
    agentWrites(contactId, 'Your parcel is back in stock.');
    await eventually(
      'the refused send in the trace',
      async () =>
        (await traceOf(waId)).some(
          (event) => event.event === 'failed' && event.direction === 'outbound',
        ),
      WAIT_MS,
    );
    const failed = (await traceOf(waId)).find(
      (event) => event.event === 'failed' && event.direction === 'outbound',
    );
    expect(failed?.reason).toContain('131047');
    const count = /^whatsapp_outside_window_total\{phone_number_id="(\d+)"\} (\d+)$/m.exec(
      await metrics(),
    );
    expect(count?.[1]).toBe(SANDBOX_PHONE_NUMBER_ID);
    expect(Number(count?.[2])).toBeGreaterThanOrEqual(1);

    agentWrites(contactId, 'Are you still there?');
    await atCustomer(waId, 'Are you still there?');
    expect(textsSentTo(waId)).toEqual([GREETING, JOINED, 'Are you still there?']);
    // A refusal for good is not retried.
    expect((await traceOf(waId)).filter((event) => event.event === 'retried')).toEqual([]);
  });

  it('records a delivery that fails later (a failed status, 131026)', async () => {
    const waId = newWaId();
    const contactId = await chatWithSam(waId);
    sandbox.whatsapp.failNextDelivery({ code: 131026 });
    agentWrites(contactId, 'This one never arrives.');
    await atCustomer(waId, 'This one never arrives.');
    const wamid = sentTo(waId).find((message) => message.text === 'This one never arrives.')!.id;

    await eventually(
      'the failed status in the trace',
      async () =>
        (await traceOf(waId)).some(
          (event) =>
            event.event === 'status' &&
            event.providerMessageId === wamid &&
            event.status === 'failed',
        ),
      WAIT_MS,
    );
    const status = (await traceOf(waId)).find(
      (event) => event.event === 'status' && event.status === 'failed',
    );
    expect(status).toMatchObject({ direction: 'outbound', providerMessageId: wamid });
    expect(status?.reason).toContain('131026');
    // The fake records a status webhook once the bridge has answered it, after the trace write.
    const posted = () =>
      sandbox.whatsapp.statusWebhooks().filter((webhook) => webhook.wamid === wamid);
    await eventually('both status webhooks answered', () => posted().length === 2, WAIT_MS);
    expect(posted().map(({ status, responseStatus }) => ({ status, responseStatus }))).toEqual([
      { status: 'sent', responseStatus: 200 },
      { status: 'failed', responseStatus: 200 },
    ]);
    expect(await metrics()).toMatch(
      /^channel_delivery_statuses_total\{channel="meta:whatsapp",status="failed"\} [1-9]\d*$/m,
    );
  });

  it('retries a send WhatsApp throttles (429, 130429) and delivers it once', async () => {
    const waId = newWaId();
    const contactId = await chatWithSam(waId);
    sandbox.whatsapp.failNext({ status: 429, code: 130429 });
    agentWrites(contactId, 'Sent after a retry.');
    await atCustomer(waId, 'Sent after a retry.');
    // A later message goes after any second copy of the first in the conversation's lane.
    agentWrites(contactId, 'And one more.');
    await atCustomer(waId, 'And one more.');
    expect(textsSentTo(waId)).toEqual([GREETING, JOINED, 'Sent after a retry.', 'And one more.']);

    const trace = await traceOf(waId);
    const retried = trace.filter((event) => event.event === 'retried');
    expect(retried).toHaveLength(1);
    expect(retried[0]).toMatchObject({ direction: 'outbound', attempt: expect.any(Number) });
    expect(retried[0].reason).toContain('130429');
    const sent = sentTo(waId).find((message) => message.text === 'Sent after a retry.')!;
    expect(trace).toContainEqual(
      expect.objectContaining({
        event: 'delivered',
        direction: 'outbound',
        connectMessageId: retried[0].connectMessageId,
        providerMessageId: sent.id,
      }),
    );
    expect(trace.filter((event) => event.event === 'failed')).toEqual([]);
  });
});
