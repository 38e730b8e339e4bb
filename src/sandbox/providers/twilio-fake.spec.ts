import { validateRequest } from 'twilio/lib/webhooks/webhooks';
import { FakeTwilio, type TwilioErrorBody, type TwilioMessageResource } from './twilio-fake';
import { WebhookReceiver, type ReceivedRequest } from './webhook-receiver';

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

/** The form parameters of a request the bridge received; Twilio never repeats one. */
function formOf(request: ReceivedRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(request.body.toString('utf8')));
}

/** Checks the request's signature as the bridge would, with Twilio's own library. */
function signedByTwilio(request: ReceivedRequest, url: string, authToken = AUTH_TOKEN): boolean {
  const signature = request.headers['x-twilio-signature'];
  return (
    typeof signature === 'string' && validateRequest(authToken, signature, url, formOf(request))
  );
}

function basic(credentials: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
}

describe('FakeTwilio as the customer', () => {
  let customerSide: FakeTwilio;
  let bridge: WebhookReceiver;
  const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const CUSTOMER = '+15005550006';
  const BUSINESS = '+15005550001';

  beforeAll(async () => {
    customerSide = await FakeTwilio.start({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      apiKey: API_KEY,
    });
    bridge = await WebhookReceiver.start();
  });

  afterEach(() => {
    customerSide.clearMessages();
    customerSide.clearFaults();
    customerSide.clearStatusCallbacks();
    customerSide.clearMediaDownloads();
    bridge.clear();
  });

  afterAll(async () => {
    await customerSide.close();
    await bridge.close();
  });

  describe('hostMedia', () => {
    it("serves the file at a URL of Twilio's shape to the account's credentials", async () => {
      const url = customerSide.hostMedia(PNG, 'image/png');
      expect(url).toMatch(
        new RegExp(
          `^${customerSide.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/MM[0-9a-f]{32}/Media/ME[0-9a-f]{32}$`,
        ),
      );

      const response = await fetch(url, { headers: basic(`${ACCOUNT_SID}:${AUTH_TOKEN}`) });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await response.arrayBuffer())).toEqual(PNG);

      const viaApiKey = await fetch(url, { headers: basic(`${API_KEY.sid}:${API_KEY.secret}`) });
      expect(viaApiKey.status).toBe(200);
      await viaApiKey.arrayBuffer();

      const mediaSid = url.split('/').pop();
      expect(customerSide.mediaDownloads()).toEqual([
        { mediaId: mediaSid, status: 200, receivedAt: expect.any(String) },
        { mediaId: mediaSid, status: 200, receivedAt: expect.any(String) },
      ]);
    });

    it('puts the file under the message sid given', () => {
      const messageSid = `MM${'a'.repeat(32)}`;
      expect(customerSide.hostMedia(PNG, 'image/png', messageSid)).toContain(
        `/Messages/${messageSid}/Media/ME`,
      );
    });

    it.each([
      ['no credentials', {}],
      ['a wrong auth token', basic(`${ACCOUNT_SID}:wrong`)],
      ['another account', basic(`${OTHER_ACCOUNT_SID}:${AUTH_TOKEN}`)],
    ])('answers 401 to %s and records the refusal', async (_label, headers) => {
      const url = customerSide.hostMedia(PNG, 'image/png');
      const response = await fetch(url, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
      expect(await errorOf(response)).toMatchObject({ code: 20003, status: 401 });
      expect(customerSide.mediaDownloads()).toEqual([
        { mediaId: url.split('/').pop(), status: 401, receivedAt: expect.any(String) },
      ]);
    });

    it('answers 404 for an unknown file or one asked under another message', async () => {
      const url = customerSide.hostMedia(PNG, 'image/png');
      const auth = basic(`${ACCOUNT_SID}:${AUTH_TOKEN}`);
      const unknown = await fetch(url.replace(/ME[0-9a-f]{32}$/, `ME${'0'.repeat(32)}`), {
        headers: auth,
      });
      expect(unknown.status).toBe(404);
      expect(await errorOf(unknown)).toMatchObject({ code: 20404, status: 404 });
      const elsewhere = await fetch(url.replace(/MM[0-9a-f]{32}/, `MM${'0'.repeat(32)}`), {
        headers: auth,
      });
      expect(elsewhere.status).toBe(404);
      await elsewhere.arrayBuffer();
      expect(customerSide.mediaDownloads().map((download) => download.status)).toEqual([404, 404]);
    });

    it('waits for downloads', async () => {
      const url = customerSide.hostMedia(PNG, 'image/png');
      const downloaded = customerSide.waitForMediaDownloads(1, 2_000);
      await (await fetch(url, { headers: basic(`${ACCOUNT_SID}:${AUTH_TOKEN}`) })).arrayBuffer();
      await expect(downloaded).resolves.toHaveLength(1);
      await expect(customerSide.waitForMediaDownloads(2, 50)).rejects.toThrow(
        'FakeTwilio: expected 2 media download(s) within 50 ms, got 1',
      );
    });

    it('serves without credentials when the fake has none', async () => {
      const open = await FakeTwilio.start();
      try {
        const url = open.hostMedia(Buffer.from('%PDF-1.7'), 'application/pdf');
        expect(url).toContain(`/Accounts/AC${'0'.repeat(32)}/`);
        const response = await fetch(url);
        expect(response.status).toBe(200);
        expect(await response.text()).toBe('%PDF-1.7');
      } finally {
        await open.close();
      }
    });
  });

  describe('sendCustomerMessage', () => {
    it("posts an SMS with the parameters Twilio sends, signed over the webhook's full URL", async () => {
      const webhookUrl = `${bridge.url}/webhooks/twilio?channel=sms`;
      const { messageSid, response } = await customerSide.sendCustomerMessage(webhookUrl, {
        from: CUSTOMER,
        to: BUSINESS,
        body: 'Hello, I need help',
      });

      expect(response.status).toBe(200);
      expect(messageSid).toMatch(/^SM[0-9a-f]{32}$/);
      const [request] = bridge.requests();
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/webhooks/twilio?channel=sms');
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(formOf(request)).toEqual({
        MessageSid: messageSid,
        SmsSid: messageSid,
        SmsMessageSid: messageSid,
        AccountSid: ACCOUNT_SID,
        From: CUSTOMER,
        To: BUSINESS,
        Body: 'Hello, I need help',
        NumMedia: '0',
        NumSegments: '1',
        SmsStatus: 'received',
        ApiVersion: '2010-04-01',
      });
      expect(signedByTwilio(request, webhookUrl)).toBe(true);
      expect(signedByTwilio(request, `${bridge.url}/webhooks/twilio`)).toBe(false);
      expect(signedByTwilio(request, webhookUrl, 'another-token')).toBe(false);
    });

    it('counts the segments of a long SMS', async () => {
      await customerSide.sendCustomerMessage(bridge.url, {
        from: CUSTOMER,
        to: BUSINESS,
        body: 'ж'.repeat(71),
      });
      expect(formOf(bridge.requests()[0]).NumSegments).toBe('2');
    });

    it('numbers the files of an MMS and gives it an MM sid', async () => {
      const media = [
        { url: customerSide.hostMedia(PNG, 'image/png'), contentType: 'image/png' },
        { url: 'https://files.example.com/b.pdf', contentType: 'application/pdf' },
      ];
      const { messageSid } = await customerSide.sendCustomerMessage(bridge.url, {
        from: CUSTOMER,
        to: BUSINESS,
        media,
      });
      expect(messageSid).toMatch(/^MM[0-9a-f]{32}$/);
      const form = formOf(bridge.requests()[0]);
      expect(form).toMatchObject({
        Body: '',
        NumMedia: '2',
        MediaUrl0: media[0].url,
        MediaContentType0: 'image/png',
        MediaUrl1: media[1].url,
        MediaContentType1: 'application/pdf',
      });
      expect(form).not.toHaveProperty('WaId');
      expect(signedByTwilio(bridge.requests()[0], bridge.url)).toBe(true);
    });

    it('adds ProfileName, WaId and MessageType for a WhatsApp sender', async () => {
      await customerSide.sendCustomerMessage(bridge.url, {
        from: `whatsapp:${CUSTOMER}`,
        to: `whatsapp:${BUSINESS}`,
        body: 'see this',
        profileName: 'Ana Souza',
        media: [{ url: 'https://files.example.com/v.mp4', contentType: 'video/mp4' }],
      });
      await customerSide.sendCustomerMessage(bridge.url, {
        from: `whatsapp:${CUSTOMER}`,
        to: `whatsapp:${BUSINESS}`,
        body: 'plain text',
      });
      const [withVideo, text] = bridge.requests().map(formOf);
      expect(withVideo).toMatchObject({
        From: `whatsapp:${CUSTOMER}`,
        ProfileName: 'Ana Souza',
        WaId: '15005550006',
        MessageType: 'video',
        NumSegments: '1',
      });
      expect(text).toMatchObject({ WaId: '15005550006', MessageType: 'text' });
      expect(text).not.toHaveProperty('ProfileName');
    });

    it('uses the given sid and extra parameters, still signed', async () => {
      const messageSid = `SM${'b'.repeat(32)}`;
      await customerSide.sendCustomerMessage(bridge.url, {
        from: CUSTOMER,
        to: BUSINESS,
        body: 'hi',
        messageSid,
        extra: { FromCountry: 'US', NumSegments: '3' },
      });
      const [request] = bridge.requests();
      expect(formOf(request)).toMatchObject({
        MessageSid: messageSid,
        FromCountry: 'US',
        NumSegments: '3',
      });
      expect(signedByTwilio(request, bridge.url)).toBe(true);
    });

    it("hands back the bridge's answer", async () => {
      bridge.answer = () => ({ status: 403, body: 'bad signature' });
      const { response } = await customerSide.sendCustomerMessage(bridge.url, {
        from: CUSTOMER,
        to: BUSINESS,
        body: 'hi',
      });
      expect(response.status).toBe(403);
      expect(await response.text()).toBe('bad signature');
    });

    it('cannot sign without an auth token', async () => {
      const unsigned = await FakeTwilio.start();
      try {
        await expect(
          unsigned.sendCustomerMessage(bridge.url, { from: CUSTOMER, to: BUSINESS, body: 'x' }),
        ).rejects.toThrow('FakeTwilio: no auth token to sign webhooks with');
        expect(bridge.requests()).toEqual([]);
      } finally {
        await unsigned.close();
      }
    });
  });

  describe('postSignedWebhook', () => {
    const params = { MessageSid: `SM${'c'.repeat(32)}`, Body: 'a + b = c & d', Custom: 'ü' };

    it('signs any parameters with the auth token, or another one', async () => {
      await customerSide.postSignedWebhook(bridge.url, params);
      await customerSide.postSignedWebhook(bridge.url, params, { authToken: 'rotated-token' });
      const [signed, rotated] = bridge.requests();
      expect(formOf(signed)).toEqual(params);
      expect(signedByTwilio(signed, bridge.url)).toBe(true);
      expect(signedByTwilio(rotated, bridge.url)).toBe(false);
      expect(signedByTwilio(rotated, bridge.url, 'rotated-token')).toBe(true);
    });

    it('sends the signature given, or none', async () => {
      await customerSide.postSignedWebhook(bridge.url, params, { signature: 'forged=' });
      await customerSide.postSignedWebhook(bridge.url, params, { signature: null });
      const [forged, missing] = bridge.requests();
      expect(forged.headers['x-twilio-signature']).toBe('forged=');
      expect(signedByTwilio(forged, bridge.url)).toBe(false);
      expect(missing.headers).not.toHaveProperty('x-twilio-signature');
    });
  });

  describe('status callbacks', () => {
    function sendWithCallback(
      params: Record<string, string> = SMS,
      path = '/webhooks/twilio/status',
    ): Promise<TwilioMessageResource> {
      return createOn(customerSide, { ...params, StatusCallback: `${bridge.url}${path}` });
    }

    it('posts signed `sent` then `delivered` callbacks after answering 201', async () => {
      const message = await sendWithCallback();
      const callbacks = await customerSide.waitForStatusCallbacks(2);
      const callbackUrl = `${bridge.url}/webhooks/twilio/status`;
      const expected = (status: string) => ({
        MessageSid: message.sid,
        MessageStatus: status,
        SmsSid: message.sid,
        SmsStatus: status,
        AccountSid: ACCOUNT_SID,
        From: SMS.From,
        To: SMS.To,
        ApiVersion: '2010-04-01',
      });
      expect(callbacks).toEqual([
        {
          url: callbackUrl,
          messageSid: message.sid,
          messageStatus: 'sent',
          errorCode: null,
          params: expected('sent'),
          responseStatus: 200,
          error: null,
          postedAt: expect.any(String),
        },
        {
          url: callbackUrl,
          messageSid: message.sid,
          messageStatus: 'delivered',
          errorCode: null,
          params: expected('delivered'),
          responseStatus: 200,
          error: null,
          postedAt: expect.any(String),
        },
      ]);
      const requests = bridge.requests();
      expect(requests.map(formOf)).toEqual([expected('sent'), expected('delivered')]);
      expect(requests.every((request) => signedByTwilio(request, callbackUrl))).toBe(true);
    });

    it('ends in `undelivered` with the error code for a failed delivery, once', async () => {
      customerSide.failNextDelivery({ errorCode: 30005 });
      const failed = await sendWithCallback();
      const delivered = await sendWithCallback();
      const callbacks = await customerSide.waitForStatusCallbacks(4);
      expect(callbacks.map((callback) => [callback.messageSid, callback.messageStatus])).toEqual([
        [failed.sid, 'sent'],
        [failed.sid, 'undelivered'],
        [delivered.sid, 'sent'],
        [delivered.sid, 'delivered'],
      ]);
      expect(callbacks[1]).toMatchObject({
        errorCode: 30005,
        params: { MessageStatus: 'undelivered', ErrorCode: '30005' },
      });
      expect(callbacks[0].params).not.toHaveProperty('ErrorCode');
    });

    it('defaults a delivery failure to 30003, and `failed` comes alone', async () => {
      customerSide.failNextDelivery();
      customerSide.failNextDelivery({ status: 'failed', errorCode: 30008 });
      await sendWithCallback();
      await sendWithCallback();
      const callbacks = await customerSide.waitForStatusCallbacks(3);
      expect(
        callbacks.map(({ messageStatus, errorCode }) => ({ messageStatus, errorCode })),
      ).toEqual([
        { messageStatus: 'sent', errorCode: null },
        { messageStatus: 'undelivered', errorCode: 30003 },
        { messageStatus: 'failed', errorCode: 30008 },
      ]);
    });

    it('drops pending delivery failures with clearFaults', async () => {
      customerSide.failNextDelivery();
      customerSide.clearFaults();
      await sendWithCallback();
      const callbacks = await customerSide.waitForStatusCallbacks(2);
      expect(callbacks[1].messageStatus).toBe('delivered');
    });

    it('names the Messaging Service and no sender when one sends', async () => {
      await sendWithCallback({ To: SMS.To, MessagingServiceSid: SERVICE_SID, Body: 'hi' });
      const [sent] = await customerSide.waitForStatusCallbacks(2);
      expect(sent.params).toMatchObject({ MessagingServiceSid: SERVICE_SID });
      expect(sent.params).not.toHaveProperty('From');
    });

    it('posts nothing for a message without StatusCallback', async () => {
      await createOn(customerSide, SMS);
      const withCallback = await sendWithCallback();
      const callbacks = await customerSide.waitForStatusCallbacks(2);
      expect(callbacks.every((callback) => callback.messageSid === withCallback.sid)).toBe(true);
    });

    it("records the bridge's refusals and unreachable URLs without stopping", async () => {
      bridge.answer = () => ({ status: 500 });
      await sendWithCallback();
      const closed = await WebhookReceiver.start();
      await closed.close();
      await createOn(customerSide, { ...SMS, StatusCallback: `${closed.url}/status` });
      const callbacks = await customerSide.waitForStatusCallbacks(4);
      expect(callbacks.map(({ responseStatus }) => responseStatus)).toEqual([500, 500, null, null]);
      expect(callbacks[2].error).toMatch(/^fetch failed: .*ECONNREFUSED/);
      expect((await send(SMS)).status).toBe(201);
    });

    it('posts no callbacks without an auth token to sign them', async () => {
      const unsigned = await FakeTwilio.start();
      try {
        const response = await fetch(
          `${unsigned.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`,
          {
            method: 'POST',
            body: new URLSearchParams({ ...SMS, StatusCallback: `${bridge.url}/status` }),
          },
        );
        expect(response.status).toBe(201);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(unsigned.statusCallbacks()).toEqual([]);
        expect(bridge.requests()).toEqual([]);
      } finally {
        await unsigned.close();
      }
    });

    it('rejects a wait that times out, naming the status callbacks', async () => {
      await expect(customerSide.waitForStatusCallbacks(1, 50)).rejects.toThrow(
        'FakeTwilio: expected 1 status callback(s) within 50 ms, got 0',
      );
    });
  });
});

async function createOn(
  fake: FakeTwilio,
  params: Record<string, string>,
): Promise<TwilioMessageResource> {
  const response = await fetch(`${fake.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, {
    method: 'POST',
    headers: basic(`${ACCOUNT_SID}:${AUTH_TOKEN}`),
    body: new URLSearchParams(params),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as TwilioMessageResource;
}
