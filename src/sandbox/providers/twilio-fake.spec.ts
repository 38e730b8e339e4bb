import { FakeTwilio, type TwilioErrorBody, type TwilioMessageResource } from './twilio-fake';

const ACCOUNT_SID = `AC${'1'.repeat(32)}`;
const AUTH_TOKEN = 'auth-token';
const API_KEY = { sid: `SK${'2'.repeat(32)}`, secret: 'api-key-secret' };
const OTHER_ACCOUNT_SID = `AC${'9'.repeat(32)}`;
const SERVICE_SID = `MG${'3'.repeat(32)}`;
const SMS = { To: '+15005550006', From: '+15005550001', Body: 'Hello from the agent' };

let twilio: FakeTwilio;

beforeAll(async () => {
  twilio = await FakeTwilio.start({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    apiKey: API_KEY,
  });
});

afterEach(() => {
  twilio.clearMessages();
  twilio.clearFaults();
});

afterAll(() => twilio.close());

function send(
  params: Record<string, string | string[]>,
  { credentials = `${ACCOUNT_SID}:${AUTH_TOKEN}`, account = ACCOUNT_SID } = {},
): Promise<Response> {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const item of [value].flat()) form.append(name, item);
  }
  return fetch(`${twilio.url}/2010-04-01/Accounts/${account}/Messages.json`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
    body: form,
  });
}

async function errorOf(response: Response): Promise<TwilioErrorBody> {
  return (await response.json()) as TwilioErrorBody;
}

function postFault(fault: object): Promise<Response> {
  return fetch(`${twilio.url}/_fake/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fault),
  });
}

describe('FakeTwilio create message', () => {
  it('answers 201 with the Message resource and captures the request', async () => {
    const mediaUrls = ['https://example.com/a.png', 'https://example.com/b.png'];
    const callback = 'https://bridge.example.com/twilio/status';
    const response = await send({ ...SMS, MediaUrl: mediaUrls, StatusCallback: callback });

    expect(response.status).toBe(201);
    const message = (await response.json()) as TwilioMessageResource;
    expect(message).toMatchObject({
      account_sid: ACCOUNT_SID,
      to: SMS.To,
      from: SMS.From,
      body: SMS.Body,
      status: 'queued',
      num_segments: '1',
      num_media: '2',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      messaging_service_sid: null,
      error_code: null,
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.date_created).toMatch(
      /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
    );
    expect(message.uri).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${message.sid}.json`);
    expect(message.subresource_uris.media).toBe(
      `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${message.sid}/Media.json`,
    );

    expect(twilio.messages()).toEqual([
      {
        sid: message.sid,
        accountSid: ACCOUNT_SID,
        authUser: ACCOUNT_SID,
        to: SMS.To,
        from: SMS.From,
        body: SMS.Body,
        mediaUrls,
        messagingServiceSid: null,
        statusCallback: callback,
        params: { ...SMS, MediaUrl: mediaUrls, StatusCallback: callback },
        receivedAt: expect.any(String),
      },
    ]);
    const listed = await fetch(`${twilio.url}/_fake/messages`);
    expect(await listed.json()).toEqual({ messages: twilio.messages() });
  });

  it('keeps messages in the order they arrived', async () => {
    await send({ ...SMS, Body: 'first' });
    await send({ ...SMS, Body: 'second' });
    expect(twilio.messages().map((message) => message.body)).toEqual(['first', 'second']);
  });

  it.each([
    { label: '160 GSM-7 characters', body: 'a'.repeat(160), segments: '1' },
    { label: '161 GSM-7 characters', body: 'a'.repeat(161), segments: '2' },
    { label: '307 GSM-7 characters', body: 'a'.repeat(307), segments: '3' },
    { label: '80 two-septet characters', body: '€'.repeat(80), segments: '1' },
    { label: '81 two-septet characters', body: '€'.repeat(81), segments: '2' },
    { label: '70 UCS-2 characters', body: 'ж'.repeat(70), segments: '1' },
    { label: '71 UCS-2 characters', body: 'ж'.repeat(71), segments: '2' },
  ])('counts $label as $segments segment(s)', async ({ body, segments }) => {
    const message = (await (await send({ ...SMS, Body: body })).json()) as TwilioMessageResource;
    expect(message.num_segments).toBe(segments);
  });

  it('answers `accepted` without a sender when a Messaging Service sends', async () => {
    const response = await send({ To: SMS.To, MessagingServiceSid: SERVICE_SID, Body: 'hi' });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({
      status: 'accepted',
      from: null,
      messaging_service_sid: SERVICE_SID,
      num_segments: '0',
    });
  });

  it('accepts an API key and records it as the auth user', async () => {
    const response = await send(SMS, { credentials: `${API_KEY.sid}:${API_KEY.secret}` });
    expect(response.status).toBe(201);
    expect(twilio.messages()[0].authUser).toBe(API_KEY.sid);
  });

  it('clears the captured messages on DELETE /_fake/messages', async () => {
    await send(SMS);
    const cleared = await fetch(`${twilio.url}/_fake/messages`, { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    expect(twilio.messages()).toEqual([]);
  });
});

describe('FakeTwilio refusals', () => {
  it.each([
    ['a wrong auth token', { credentials: `${ACCOUNT_SID}:wrong` }],
    ['a wrong API key secret', { credentials: `${API_KEY.sid}:wrong` }],
    ['another account in the URL', { account: OTHER_ACCOUNT_SID }],
    [
      'another account in the URL with a valid API key',
      { account: OTHER_ACCOUNT_SID, credentials: `${API_KEY.sid}:${API_KEY.secret}` },
    ],
  ])('answers 401 for %s', async (_label, request) => {
    const response = await send(SMS, request);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      code: 20003,
      message: 'Authenticate',
      more_info: 'https://www.twilio.com/docs/errors/20003',
      status: 401,
    });
    expect(twilio.messages()).toEqual([]);
  });

  it('answers 401 without an Authorization header', async () => {
    const response = await fetch(`${twilio.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, {
      method: 'POST',
      body: new URLSearchParams(SMS),
    });
    expect(response.status).toBe(401);
    expect((await errorOf(response)).code).toBe(20003);
  });

  it.each([
    ['no To', { From: SMS.From, Body: SMS.Body }, 21604],
    ['no From nor MessagingServiceSid', { To: SMS.To, Body: SMS.Body }, 21603],
    ['neither Body nor MediaUrl', { To: SMS.To, From: SMS.From }, 21602],
    ['a Body over 1600 characters', { ...SMS, Body: 'x'.repeat(1601) }, 21617],
  ])('answers 400 for %s', async (_label, params, code) => {
    const response = await send(params);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code,
      message: expect.any(String),
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status: 400,
    });
    expect(twilio.messages()).toEqual([]);
  });

  it('accepts a Body of exactly 1600 characters and a media-only message', async () => {
    expect((await send({ ...SMS, Body: 'x'.repeat(1600) })).status).toBe(201);
    expect((await send({ To: SMS.To, From: SMS.From, MediaUrl: 'https://x.test/a' })).status).toBe(
      201,
    );
  });
});

describe('FakeTwilio faults', () => {
  it('fails the next `times` calls as configured over HTTP, then succeeds', async () => {
    const configured = await postFault({ status: 400, code: 21610, times: 2 });
    expect(configured.status).toBe(204);

    for (let call = 0; call < 2; call += 1) {
      const response = await send(SMS);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        code: 21610,
        message: 'Attempt to send to unsubscribed recipient',
        more_info: 'https://www.twilio.com/docs/errors/21610',
        status: 400,
      });
    }
    expect((await send(SMS)).status).toBe(201);
    expect(twilio.messages()).toHaveLength(1);
  });

  it.each([
    [429, 20429, 'Too Many Requests'],
    [500, 20500, 'Internal Server Error'],
    [400, 21211, "Invalid 'To' Phone Number"],
  ])('defaults a %d fault to code %d', async (status, code, message) => {
    twilio.failNext({ status });
    const response = await send(SMS);
    expect(response.status).toBe(status);
    expect(await errorOf(response)).toMatchObject({ code, message, status });
    expect((await send(SMS)).status).toBe(201);
  });

  it('applies queued faults one after another with their own message', async () => {
    twilio.failNext({ status: 503, message: 'down for maintenance' });
    twilio.failNext({ status: 429 });
    expect(await errorOf(await send(SMS))).toMatchObject({
      status: 503,
      code: 20503,
      message: 'down for maintenance',
    });
    expect((await errorOf(await send(SMS))).status).toBe(429);
    expect((await send(SMS)).status).toBe(201);
  });

  it('drops the connection without answering when unreachable', async () => {
    twilio.failNext({ unreachable: true });
    await expect(send(SMS)).rejects.toThrow('fetch failed');
    expect(twilio.messages()).toEqual([]);
    expect((await send(SMS)).status).toBe(201);
  });

  it('drops pending faults on DELETE /_fake/faults', async () => {
    twilio.failNext({ status: 500, times: 3 });
    const cleared = await fetch(`${twilio.url}/_fake/faults`, { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    expect((await send(SMS)).status).toBe(201);
  });

  it('refuses a malformed fault', async () => {
    const response = await postFault({ status: 200, times: 1 });
    expect(response.status).toBe(400);
    expect(() => twilio.failNext({ status: 500, times: 0 })).toThrow();
    expect((await send(SMS)).status).toBe(201);
  });
});

describe('FakeTwilio waitForMessages', () => {
  it('resolves once the expected number of messages has arrived', async () => {
    const arrived = twilio.waitForMessages(2, 2_000);
    await send({ ...SMS, Body: 'one' });
    await expect(Promise.race([arrived, Promise.resolve('pending')])).resolves.toBe('pending');
    await send({ ...SMS, Body: 'two' });
    const messages = await arrived;
    expect(messages.map((message) => message.body)).toEqual(['one', 'two']);
  });

  it('resolves at once when enough messages are already captured', async () => {
    await send(SMS);
    await expect(twilio.waitForMessages(1, 10)).resolves.toHaveLength(1);
  });

  it('rejects with the count it saw when the timeout passes', async () => {
    await send(SMS);
    await expect(twilio.waitForMessages(2, 50)).rejects.toThrow(
      'FakeTwilio: expected 2 message(s) within 50 ms, got 1',
    );
  });
});
