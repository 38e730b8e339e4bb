import { createHash, createHmac } from 'node:crypto';
import { WebhookReceiver, type ReceivedRequest } from './webhook-receiver';
import {
  FakeWhatsApp,
  type GraphErrorBody,
  type WhatsAppMediaInfo,
  type WhatsAppSendResponse,
  type WhatsAppStatus,
  type WhatsAppWebhookPayload,
} from './whatsapp-fake';

const ACCESS_TOKEN = 'EAAG-test-token';
const PHONE_NUMBER_ID = '106540352242922';
const TEXT = { messaging_product: 'whatsapp', to: '+1 (555) 010-0199', type: 'text' };

let whatsapp: FakeWhatsApp;

beforeAll(async () => {
  whatsapp = await FakeWhatsApp.start({
    accessToken: ACCESS_TOKEN,
    phoneNumberId: PHONE_NUMBER_ID,
  });
});

afterEach(() => {
  whatsapp.clearMessages();
  whatsapp.clearFaults();
});

afterAll(() => whatsapp.close());

function send(
  body: object,
  { token = ACCESS_TOKEN, path = `/v23.0/${PHONE_NUMBER_ID}/messages` } = {},
): Promise<Response> {
  return fetch(`${whatsapp.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function sendText(text = 'Hello from the agent'): Promise<Response> {
  return send({ ...TEXT, text: { body: text } });
}

async function errorOf(response: Response): Promise<GraphErrorBody['error']> {
  return ((await response.json()) as GraphErrorBody).error;
}

describe('FakeWhatsApp send message', () => {
  it('answers 200 with the contact and a wamid, and captures the request', async () => {
    const body = {
      ...TEXT,
      recipient_type: 'individual',
      text: { body: 'Hi', preview_url: false },
    };
    const response = await send(body);

    expect(response.status).toBe(200);
    const sent = (await response.json()) as WhatsAppSendResponse;
    expect(sent).toEqual({
      messaging_product: 'whatsapp',
      contacts: [{ input: TEXT.to, wa_id: '15550100199' }],
      messages: [{ id: expect.stringMatching(/^wamid\.[A-Za-z0-9+/=]{20,}$/) }],
    });

    expect(whatsapp.messages()).toEqual([
      {
        id: sent.messages[0].id,
        phoneNumberId: PHONE_NUMBER_ID,
        apiVersion: 'v23.0',
        to: TEXT.to,
        type: 'text',
        text: 'Hi',
        media: null,
        payload: body,
        accessToken: ACCESS_TOKEN,
        receivedAt: expect.any(String),
      },
    ]);
    const listed = await fetch(`${whatsapp.url}/_fake/messages`);
    expect(await listed.json()).toEqual({ messages: whatsapp.messages() });
  });

  it('accepts a path without the Graph version', async () => {
    const response = await send(
      { ...TEXT, text: { body: 'no version' } },
      { path: `/${PHONE_NUMBER_ID}/messages` },
    );
    expect(response.status).toBe(200);
    expect(whatsapp.messages()[0]).toMatchObject({ apiVersion: null, text: 'no version' });
  });

  it('treats a message without a type as text', async () => {
    const response = await send({
      messaging_product: 'whatsapp',
      to: '15550100',
      text: { body: 'x' },
    });
    expect(response.status).toBe(200);
    expect(whatsapp.messages()[0]).toMatchObject({ type: 'text', text: 'x' });
  });

  it.each(['image', 'document', 'audio', 'video', 'sticker'])(
    'captures the %s object of a media message',
    async (type) => {
      const media = { link: `https://cdn.example.com/file.${type}`, caption: 'see this' };
      const response = await send({ ...TEXT, type, [type]: media });
      expect(response.status).toBe(200);
      expect(whatsapp.messages()[0]).toMatchObject({ type, text: null, media });
    },
  );

  it('clears the captured messages on DELETE /_fake/messages', async () => {
    await sendText();
    const cleared = await fetch(`${whatsapp.url}/_fake/messages`, { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    expect(whatsapp.messages()).toEqual([]);
  });
});

describe('FakeWhatsApp refusals', () => {
  it('answers 401 with an OAuthException for a wrong token', async () => {
    const response = await send({ ...TEXT, text: { body: 'x' } }, { token: 'wrong' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: {
        message: 'Invalid OAuth access token - Cannot parse access token',
        type: 'OAuthException',
        code: 190,
        fbtrace_id: expect.stringMatching(/^[\w-]{20,}$/),
      },
    });
    expect(whatsapp.messages()).toEqual([]);
  });

  it('answers 400 GraphMethodException for an unknown phone number ID', async () => {
    const response = await send({ ...TEXT, text: { body: 'x' } }, { path: '/999/messages' });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({
      type: 'GraphMethodException',
      code: 100,
      error_subcode: 33,
      message: expect.stringContaining("Object with ID '999' does not exist"),
    });
    expect(whatsapp.messages()).toEqual([]);
  });

  it.each([
    [
      'no messaging_product',
      { to: TEXT.to, text: { body: 'x' } },
      '(#100) The parameter messaging_product is required.',
    ],
    [
      'no to',
      { messaging_product: 'whatsapp', text: { body: 'x' } },
      '(#100) The parameter to is required.',
    ],
    [
      'a text without body',
      { ...TEXT, text: {} },
      "(#100) The parameter text['body'] is required.",
    ],
    [
      'a text body over 4096 characters',
      { ...TEXT, text: { body: 'x'.repeat(4097) } },
      "(#100) Param text['body'] must be at most 4096 characters long.",
    ],
  ])('answers 400 code 100 for %s', async (_label, body, message) => {
    const response = await send(body);
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: 100, type: 'OAuthException', message });
    expect(whatsapp.messages()).toEqual([]);
  });

  it.each([
    ['an unknown type', { ...TEXT, type: 'hologram' }, 'unsupported message type hologram'],
    [
      'an image without link or id',
      { ...TEXT, type: 'image', image: {} },
      'image needs a link or an id',
    ],
  ])('answers 400 Invalid parameter for %s', async (_label, body, details) => {
    const response = await send(body);
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({
      code: 100,
      message: '(#100) Invalid parameter',
      error_data: { messaging_product: 'whatsapp', details },
    });
    expect(whatsapp.messages()).toEqual([]);
  });

  it('accepts a text body of exactly 4096 characters', async () => {
    expect((await sendText('x'.repeat(4096))).status).toBe(200);
  });
});

describe('FakeWhatsApp faults', () => {
  it('fails the next `times` calls as configured over HTTP, then succeeds', async () => {
    const configured = await fetch(`${whatsapp.url}/_fake/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 400, code: 131047, times: 2 }),
    });
    expect(configured.status).toBe(204);

    for (let call = 0; call < 2; call += 1) {
      const response = await sendText();
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toEqual({
        message: '(#131047) Re-engagement message',
        type: 'OAuthException',
        code: 131047,
        error_data: {
          messaging_product: 'whatsapp',
          details: expect.stringContaining('more than 24 hours'),
        },
        fbtrace_id: expect.any(String),
      });
    }
    expect((await sendText()).status).toBe(200);
    expect(whatsapp.messages()).toHaveLength(1);
  });

  it.each([
    [429, 130429, '(#130429) Rate limit hit'],
    [500, 131000, '(#131000) Something went wrong'],
  ])('defaults a %d fault to code %d', async (status, code, message) => {
    whatsapp.failNext({ status });
    const response = await sendText();
    expect(response.status).toBe(status);
    expect(await errorOf(response)).toMatchObject({ code, message });
    expect((await sendText()).status).toBe(200);
  });

  it('names a known code without a message', async () => {
    whatsapp.failNext({ status: 400, code: 131026 });
    expect(await errorOf(await sendText())).toMatchObject({
      code: 131026,
      message: '(#131026) Message undeliverable',
    });
  });

  it('drops the connection without answering when unreachable, for `times` calls', async () => {
    whatsapp.failNext({ unreachable: true, times: 2 });
    await expect(sendText()).rejects.toThrow('fetch failed');
    await expect(sendText()).rejects.toThrow('fetch failed');
    expect(whatsapp.messages()).toEqual([]);
    expect((await sendText()).status).toBe(200);
  });
});

describe('FakeWhatsApp waitForMessages', () => {
  it('resolves once the expected number of messages has arrived', async () => {
    const arrived = whatsapp.waitForMessages(2, 2_000);
    await sendText('one');
    await expect(Promise.race([arrived, Promise.resolve('pending')])).resolves.toBe('pending');
    await sendText('two');
    const messages = await arrived;
    expect(messages.map((message) => message.text)).toEqual(['one', 'two']);
  });

  it('rejects with the count it saw when the timeout passes', async () => {
    await expect(whatsapp.waitForMessages(1, 50)).rejects.toThrow(
      'FakeWhatsApp: expected 1 message(s) within 50 ms, got 0',
    );
  });
});

const APP_SECRET = 'meta-app-secret';
const CUSTOMER = '15550100199';
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffdb', 'hex');

function hubSignature(body: Buffer | string, secret = APP_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Recomputes the HMAC over the exact bytes received, as the bridge must. */
function signedByMeta(request: ReceivedRequest): boolean {
  return request.headers['x-hub-signature-256'] === hubSignature(request.body);
}

function jsonOf(request: ReceivedRequest): WhatsAppWebhookPayload {
  return JSON.parse(request.body.toString('utf8')) as WhatsAppWebhookPayload;
}

function bearer(token = ACCESS_TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

describe('FakeWhatsApp as the customer', () => {
  let meta: FakeWhatsApp;
  let bridge: WebhookReceiver;
  let webhookUrl: string;

  beforeAll(async () => {
    bridge = await WebhookReceiver.start();
    webhookUrl = `${bridge.url}/webhooks/whatsapp`;
    meta = await FakeWhatsApp.start({
      accessToken: ACCESS_TOKEN,
      phoneNumberId: PHONE_NUMBER_ID,
      appSecret: APP_SECRET,
      webhookUrl,
    });
  });

  afterEach(() => {
    meta.clearMessages();
    meta.clearFaults();
    meta.clearStatusWebhooks();
    meta.clearMediaDownloads();
    meta.setWebhookUrl(webhookUrl);
    bridge.clear();
  });

  afterAll(async () => {
    await meta.close();
    await bridge.close();
  });

  function sendOn(fake: FakeWhatsApp, text = 'Hello from the agent'): Promise<Response> {
    return fetch(`${fake.url}/v23.0/${PHONE_NUMBER_ID}/messages`, {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify({ ...TEXT, text: { body: text } }),
    });
  }

  async function sentWamid(text?: string): Promise<string> {
    const response = await sendOn(meta, text);
    expect(response.status).toBe(200);
    return ((await response.json()) as WhatsAppSendResponse).messages[0].id;
  }

  describe('media', () => {
    it('looks a hosted file up and serves it to the Bearer token', async () => {
      const mediaId = meta.hostMedia(JPEG, 'image/jpeg');
      expect(mediaId).toMatch(/^\d{15}$/);

      for (const path of [`/v23.0/${mediaId}`, `/${mediaId}`]) {
        const looked = await fetch(`${meta.url}${path}`, { headers: bearer() });
        expect(looked.status).toBe(200);
        expect(await looked.json()).toEqual({
          messaging_product: 'whatsapp',
          url: expect.stringMatching(
            new RegExp(`^${meta.url}/_media/${mediaId}\\?token=[0-9a-f]{32}$`),
          ),
          mime_type: 'image/jpeg',
          sha256: createHash('sha256').update(JPEG).digest('hex'),
          file_size: JPEG.length,
          id: mediaId,
        });
      }

      const info = (await (
        await fetch(`${meta.url}/v23.0/${mediaId}`, { headers: bearer() })
      ).json()) as WhatsAppMediaInfo;
      const download = await fetch(info.url, { headers: bearer() });
      expect(download.status).toBe(200);
      expect(download.headers.get('content-type')).toBe('image/jpeg');
      expect(Buffer.from(await download.arrayBuffer())).toEqual(JPEG);
      expect(meta.mediaDownloads()).toEqual([
        { mediaId, status: 200, receivedAt: expect.any(String) },
      ]);
    });

    it('refuses the look-up and the download without the token', async () => {
      const mediaId = meta.hostMedia(JPEG, 'image/jpeg');
      const looked = await fetch(`${meta.url}/v23.0/${mediaId}`, { headers: bearer('wrong') });
      expect(looked.status).toBe(401);
      expect(await errorOf(looked)).toMatchObject({ code: 190, type: 'OAuthException' });

      const { url } = (await (
        await fetch(`${meta.url}/v23.0/${mediaId}`, { headers: bearer() })
      ).json()) as WhatsAppMediaInfo;
      const anonymous = await fetch(url);
      expect(anonymous.status).toBe(401);
      expect(await errorOf(anonymous)).toMatchObject({ code: 190 });
      const forged = await fetch(url.replace(/token=\w+/, 'token=forged'), { headers: bearer() });
      expect(forged.status).toBe(404);
      await forged.arrayBuffer();
      expect(meta.mediaDownloads().map((download) => download.status)).toEqual([401, 404]);
    });

    it('answers an unknown media ID as Graph answers unknown objects', async () => {
      const response = await fetch(`${meta.url}/v23.0/999000111`, { headers: bearer() });
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toMatchObject({
        type: 'GraphMethodException',
        code: 100,
        error_subcode: 33,
        message: expect.stringContaining(
          "Unsupported get request. Object with ID '999000111' does not exist",
        ),
      });
    });

    it('leaves the inspection routes and other paths alone', async () => {
      const listed = await fetch(`${meta.url}/_fake/messages`);
      expect(await listed.json()).toEqual({ messages: [] });
      for (const path of ['/_fake/123', '/v23.0/not-a-media-id', '/latest/123']) {
        const response = await fetch(`${meta.url}${path}`, { headers: bearer() });
        expect(response.status).toBe(404);
        expect(response.headers.get('content-type')).not.toMatch(/json/);
        await response.arrayBuffer();
      }
    });

    it('waits for downloads', async () => {
      await expect(meta.waitForMediaDownloads(1, 50)).rejects.toThrow(
        'FakeWhatsApp: expected 1 media download(s) within 50 ms, got 0',
      );
    });
  });

  describe('sendCustomerMessage', () => {
    it("posts Meta's webhook envelope, signed over its exact bytes", async () => {
      const before = Math.floor(Date.now() / 1000);
      const { wamid, response } = await meta.sendCustomerMessage({
        from: CUSTOMER,
        phoneNumberId: PHONE_NUMBER_ID,
        displayPhoneNumber: '15550783881',
        profileName: 'Ana Souza',
        content: { type: 'text', text: { body: 'Hi, I need help' } },
      });

      expect(response.status).toBe(200);
      expect(wamid).toMatch(/^wamid\.[A-Za-z0-9+/=]{20,}$/);
      const [request] = bridge.requests();
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/webhooks/whatsapp');
      expect(request.headers['content-type']).toBe('application/json');
      expect(signedByMeta(request)).toBe(true);
      const payload = jsonOf(request);
      expect(payload).toEqual({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: expect.stringMatching(/^\d+$/),
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: {
                    display_phone_number: '15550783881',
                    phone_number_id: PHONE_NUMBER_ID,
                  },
                  contacts: [{ profile: { name: 'Ana Souza' }, wa_id: CUSTOMER }],
                  messages: [
                    {
                      from: CUSTOMER,
                      id: wamid,
                      timestamp: expect.stringMatching(/^\d{10}$/),
                      type: 'text',
                      text: { body: 'Hi, I need help' },
                    },
                  ],
                },
              },
            ],
          },
        ],
      });
      const [message] = payload.entry[0].changes[0].value.messages as { timestamp: string }[];
      expect(Number(message.timestamp)).toBeGreaterThanOrEqual(before);
    });

    it('carries media, interactive replies and context as given, without a profile when none', async () => {
      const mediaId = meta.hostMedia(JPEG, 'image/jpeg');
      const image = {
        id: mediaId,
        mime_type: 'image/jpeg',
        sha256: createHash('sha256').update(JPEG).digest('base64'),
        caption: 'the receipt',
      };
      await meta.sendCustomerMessage({
        from: CUSTOMER,
        phoneNumberId: PHONE_NUMBER_ID,
        content: { type: 'image', image },
        id: 'wamid.given',
      });
      const reply = { type: 'button_reply' as const, button_reply: { id: 'yes', title: 'Yes' } };
      await meta.sendCustomerMessage({
        from: CUSTOMER,
        phoneNumberId: PHONE_NUMBER_ID,
        content: {
          type: 'interactive',
          interactive: reply,
          context: { from: '15550783881', id: 'wamid.question' },
        },
      });
      await meta.sendCustomerMessage({
        from: CUSTOMER,
        phoneNumberId: PHONE_NUMBER_ID,
        content: { type: 'reaction', reaction: { message_id: 'wamid.x', emoji: '👍' } },
      });

      const values = bridge.requests().map((request) => jsonOf(request).entry[0].changes[0].value);
      expect(values[0].contacts).toEqual([{ wa_id: CUSTOMER }]);
      expect(values[0].messages).toEqual([
        { from: CUSTOMER, id: 'wamid.given', timestamp: expect.any(String), type: 'image', image },
      ]);
      expect(values[1].messages).toEqual([
        expect.objectContaining({
          type: 'interactive',
          interactive: reply,
          context: { from: '15550783881', id: 'wamid.question' },
        }),
      ]);
      expect(values[2].messages).toEqual([
        expect.objectContaining({
          type: 'reaction',
          reaction: { message_id: 'wamid.x', emoji: '👍' },
        }),
      ]);
      expect(bridge.requests().every(signedByMeta)).toBe(true);
    });

    it('posts to the URL set later', async () => {
      meta.setWebhookUrl(`${bridge.url}/elsewhere`);
      await meta.sendCustomerMessage({
        from: CUSTOMER,
        phoneNumberId: PHONE_NUMBER_ID,
        content: { type: 'text', text: { body: 'x' } },
      });
      expect(bridge.requests()[0].url).toBe('/elsewhere');
    });

    it('needs a webhook URL and an app secret', async () => {
      const bare = await FakeWhatsApp.start();
      try {
        const message = {
          from: CUSTOMER,
          phoneNumberId: PHONE_NUMBER_ID,
          content: { type: 'text', text: { body: 'x' } },
        } as const;
        await expect(bare.sendCustomerMessage(message)).rejects.toThrow(
          'FakeWhatsApp: no webhook URL is set',
        );
        bare.setWebhookUrl(webhookUrl);
        await expect(bare.sendCustomerMessage(message)).rejects.toThrow(
          'FakeWhatsApp: an app secret is needed to sign webhooks',
        );
        expect(bridge.requests()).toEqual([]);
      } finally {
        await bare.close();
      }
    });
  });

  describe('postSignedWebhook', () => {
    it('signs any payload, and a string as it is', async () => {
      const batch = {
        object: 'whatsapp_business_account',
        entry: [
          { id: '1', changes: [] },
          { id: '2', changes: [] },
        ],
      };
      await meta.postSignedWebhook(batch);
      const raw = '{ "object" : "whatsapp_business_account", "entry": [] }';
      await meta.postSignedWebhook(raw);
      const [json, verbatim] = bridge.requests();
      expect(JSON.parse(json.body.toString('utf8'))).toEqual(batch);
      expect(verbatim.body.toString('utf8')).toBe(raw);
      expect(verbatim.headers['x-hub-signature-256']).toBe(hubSignature(raw));
      expect([json, verbatim].every(signedByMeta)).toBe(true);
    });

    it('sends the signature given, or none', async () => {
      await meta.postSignedWebhook({ entry: [] }, { signature: hubSignature('{}', 'wrong') });
      await meta.postSignedWebhook({ entry: [] }, { signature: null });
      const [forged, missing] = bridge.requests();
      expect(signedByMeta(forged)).toBe(false);
      expect(missing.headers).not.toHaveProperty('x-hub-signature-256');
    });
  });

  describe('verifyWebhook', () => {
    beforeEach(() => {
      bridge.answer = (request) => {
        const query = new URL(request.url, bridge.url).searchParams;
        return query.get('hub.mode') === 'subscribe' &&
          query.get('hub.verify_token') === 'verify-me'
          ? { status: 200, body: query.get('hub.challenge') ?? '' }
          : { status: 403 };
      };
    });

    it("performs Meta's GET handshake and checks the echo", async () => {
      meta.setWebhookUrl(`${webhookUrl}?tenant=a`);
      const verification = await meta.verifyWebhook('verify-me');
      expect(verification).toEqual({
        status: 200,
        body: verification.challenge,
        challenge: expect.stringMatching(/^\d+$/),
        verified: true,
      });
      const [request] = bridge.requests();
      expect(request.method).toBe('GET');
      const url = new URL(request.url, bridge.url);
      expect(url.pathname).toBe('/webhooks/whatsapp');
      expect(Object.fromEntries(url.searchParams)).toEqual({
        tenant: 'a',
        'hub.mode': 'subscribe',
        'hub.verify_token': 'verify-me',
        'hub.challenge': verification.challenge,
      });
    });

    it('reports a refusal or a wrong echo as not verified', async () => {
      expect(await meta.verifyWebhook('wrong')).toMatchObject({ status: 403, verified: false });
      bridge.answer = () => ({ status: 200, body: 'ok' });
      expect(await meta.verifyWebhook('verify-me')).toMatchObject({
        status: 200,
        body: 'ok',
        verified: false,
      });
    });
  });

  describe('status webhooks', () => {
    function statusesOf(request: ReceivedRequest): WhatsAppStatus[] {
      return jsonOf(request).entry[0].changes[0].value.statuses as WhatsAppStatus[];
    }

    it('posts signed `sent` then `delivered` for each message sent', async () => {
      const wamid = await sentWamid();
      const webhooks = await meta.waitForStatusWebhooks(2);
      expect(
        webhooks.map(({ wamid: id, status, responseStatus, error, url }) => ({
          id,
          status,
          responseStatus,
          error,
          url,
        })),
      ).toEqual([
        { id: wamid, status: 'sent', responseStatus: 200, error: null, url: webhookUrl },
        { id: wamid, status: 'delivered', responseStatus: 200, error: null, url: webhookUrl },
      ]);

      const requests = bridge.requests();
      expect(requests.every(signedByMeta)).toBe(true);
      expect(requests.map(jsonOf)).toEqual(webhooks.map((webhook) => webhook.payload));
      const [value] = requests.map((request) => jsonOf(request).entry[0].changes[0]);
      expect(value).toMatchObject({
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { phone_number_id: PHONE_NUMBER_ID, display_phone_number: expect.any(String) },
        },
      });
      const [sent, delivered] = requests.map((request) => statusesOf(request)[0]);
      const pricing = {
        billable: false,
        pricing_model: 'PMP',
        category: 'service',
        type: 'free_customer_service',
      };
      expect(sent).toEqual({
        id: wamid,
        status: 'sent',
        timestamp: expect.stringMatching(/^\d{10}$/),
        recipient_id: CUSTOMER,
        conversation: {
          id: expect.stringMatching(/^[0-9a-f]{32}$/),
          expiration_timestamp: expect.stringMatching(/^\d{10}$/),
          origin: { type: 'service' },
        },
        pricing,
      });
      expect(delivered).toEqual({
        id: wamid,
        status: 'delivered',
        timestamp: expect.stringMatching(/^\d{10}$/),
        recipient_id: CUSTOMER,
        conversation: { id: sent.conversation?.id, origin: { type: 'service' } },
        pricing,
      });
    });

    it('reports `failed` with the error instead of `delivered`, for the next message only', async () => {
      meta.failNextDelivery();
      const failed = await sentWamid('one');
      const delivered = await sentWamid('two');
      const webhooks = await meta.waitForStatusWebhooks(4);
      expect(webhooks.map(({ wamid, status }) => [wamid, status])).toEqual([
        [failed, 'sent'],
        [failed, 'failed'],
        [delivered, 'sent'],
        [delivered, 'delivered'],
      ]);
      const [failure] = webhooks[1].payload.entry[0].changes[0].value.statuses as WhatsAppStatus[];
      expect(failure).toEqual({
        id: failed,
        status: 'failed',
        timestamp: expect.any(String),
        recipient_id: CUSTOMER,
        errors: [
          {
            code: 131026,
            title: 'Message undeliverable',
            message: 'Message undeliverable',
            error_data: { details: 'Unable to deliver message.' },
            href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
          },
        ],
      });
    });

    it('takes the error code, title and details given', async () => {
      meta.failNextDelivery({ code: 131049, title: 'Meta chose not to deliver.' });
      await sentWamid();
      const [, failed] = await meta.waitForStatusWebhooks(2);
      const [status] = failed.payload.entry[0].changes[0].value.statuses as WhatsAppStatus[];
      expect(status.errors).toEqual([
        expect.objectContaining({
          code: 131049,
          title: 'Meta chose not to deliver.',
          error_data: { details: 'Meta chose not to deliver.' },
        }),
      ]);
    });

    it('drops pending delivery failures with clearFaults', async () => {
      meta.failNextDelivery({ code: 131047 });
      meta.clearFaults();
      await sentWamid();
      const webhooks = await meta.waitForStatusWebhooks(2);
      expect(webhooks[1].status).toBe('delivered');
    });

    it("records the bridge's refusals and an unreachable webhook without stopping", async () => {
      bridge.answer = () => ({ status: 401 });
      await sentWamid();
      const closed = await WebhookReceiver.start();
      await closed.close();
      meta.setWebhookUrl(`${closed.url}/webhooks/whatsapp`);
      await sentWamid();
      const webhooks = await meta.waitForStatusWebhooks(4);
      expect(webhooks.map(({ responseStatus }) => responseStatus)).toEqual([401, 401, null, null]);
      expect(webhooks[3].error).toMatch(/^fetch failed: .*ECONNREFUSED/);
      expect((await sendOn(meta)).status).toBe(200);
    });

    it('posts none without an app secret', async () => {
      const unsigned = await FakeWhatsApp.start({ webhookUrl });
      try {
        expect((await sendOn(unsigned)).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(unsigned.statusWebhooks()).toEqual([]);
        expect(bridge.requests()).toEqual([]);
      } finally {
        await unsigned.close();
      }
    });

    it('rejects a wait that times out, naming the status webhooks', async () => {
      await expect(meta.waitForStatusWebhooks(1, 50)).rejects.toThrow(
        'FakeWhatsApp: expected 1 status webhook(s) within 50 ms, got 0',
      );
    });
  });
});
