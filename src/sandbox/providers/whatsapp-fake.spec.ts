import { FakeWhatsApp, type GraphErrorBody, type WhatsAppSendResponse } from './whatsapp-fake';

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
