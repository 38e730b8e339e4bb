import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  BUSINESS,
  CUSTOMER,
  changedFixture,
  PUBLIC_BASE_URL,
  twilioConfig,
  twilioFixture,
  twilioRequest,
} from '../../../test/fixtures/twilio/twilio-fixtures';
import { AppConfig } from '../../config';
import { FakeTwilio } from '../../sandbox/providers/twilio-fake';
import { ChannelSendError, InvalidWebhookError } from '../channel-adapter';
import { TwilioChannel } from './twilio-channel';

const channelWith = (env: Record<string, string> = {}) => new TwilioChannel(twilioConfig(env));
const WEBHOOK_URL = '/webhooks/twilio';
const parse = (body: string) => channelWith().parse(twilioRequest(body, WEBHOOK_URL), 42).messages;

describe('TwilioChannel', () => {
  describe('verify', () => {
    // Twilio's published example of its request validation.
    const example = {
      token: '12345',
      path: '/myapp.php?foo=1&bar=2',
      body: 'CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212',
      signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
    };
    const exampleChannel = (baseUrl = 'https://mycompany.com', token = example.token) =>
      channelWith({ PUBLIC_BASE_URL: baseUrl, TWILIO_AUTH_TOKEN: token });
    const exampleRequest = (body = example.body, signature = example.signature) =>
      twilioRequest(body, example.path, { 'x-twilio-signature': signature });

    it("accepts Twilio's published example", () => {
      expect(exampleChannel().verify(exampleRequest())).toBe(true);
    });

    it('accepts the URL with and without an explicit :443', () => {
      expect(exampleChannel('https://mycompany.com:443').verify(exampleRequest())).toBe(true);
      const signedWithPort = getExpectedTwilioSignature(
        example.token,
        `https://mycompany.com:443${example.path}`,
        Object.fromEntries(new URLSearchParams(example.body)),
      );
      expect(exampleChannel().verify(exampleRequest(example.body, signedWithPort))).toBe(true);
    });

    it('refuses another token, a tampered parameter, another URL, a missing header', () => {
      expect(exampleChannel('https://mycompany.com', 'other-token').verify(exampleRequest())).toBe(
        false,
      );
      expect(
        exampleChannel().verify(exampleRequest(example.body.replace('Digits=1234', 'Digits=1235'))),
      ).toBe(false);
      expect(exampleChannel('https://othercompany.com').verify(exampleRequest())).toBe(false);
      expect(exampleChannel().verify(twilioRequest(example.body, example.path))).toBe(false);
    });

    it('refuses everything when the channel is disabled', () => {
      const disabled = new TwilioChannel(
        AppConfig.fromEnv({
          AWS_REGION: 'us-east-1',
          CONNECT_INSTANCE_ID: 'i',
          CONNECT_CONTACT_FLOW_ID: 'f',
          CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
          PUBLIC_BASE_URL: 'https://mycompany.com',
        }),
      );
      expect(disabled.enabled).toBe(false);
      expect(disabled.verify(exampleRequest())).toBe(false);
    });

    it('checks every value of a repeated parameter', () => {
      const first = 'https://example.com/a.jpg';
      const second = 'https://example.com/b.jpg';
      const signature = getExpectedTwilioSignature(AUTH_TOKEN, PUBLIC_BASE_URL + WEBHOOK_URL, {
        Body: 'two files',
        MediaUrl: [first, second],
      });
      const body = (...urls: string[]) => {
        const params = new URLSearchParams({ Body: 'two files' });
        for (const url of urls) params.append('MediaUrl', url);
        return params.toString();
      };
      const request = (...urls: string[]) =>
        twilioRequest(body(...urls), WEBHOOK_URL, { 'x-twilio-signature': signature });
      expect(channelWith().verify(request(first, second))).toBe(true);
      expect(channelWith().verify(request(second, first))).toBe(true);
      expect(channelWith().verify(request(first))).toBe(false);
    });
  });

  describe('parse', () => {
    it('reads an SMS', () => {
      expect(parse(twilioFixture('sms'))).toEqual([
        {
          channel: 'twilio:sms',
          providerMessageId: 'SM1f0e4c6a2b8d4e9f8a7b6c5d4e3f2a10',
          customerAddress: CUSTOMER,
          businessAddress: BUSINESS,
          text: "Ahoy! Where's my order #1234?",
          attachments: [],
          receivedAt: 42,
        },
      ]);
    });

    it('reads an MMS with its media', () => {
      const media = (sid: string) =>
        `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/MM5c3b2a19087f6e5d4c3b2a1908f7e6d5/Media/${sid}`;
      expect(parse(twilioFixture('mms'))).toEqual([
        expect.objectContaining({
          channel: 'twilio:sms',
          providerMessageId: 'MM5c3b2a19087f6e5d4c3b2a1908f7e6d5',
          text: 'The parcel arrived like this',
          attachments: [
            { source: media('MEa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5'), contentType: 'image/jpeg' },
            { source: media('MEb1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6'), contentType: 'image/png' },
          ],
        }),
      ]);
    });

    it('reads a WhatsApp message: its channel, the profile name, addresses without the prefix', () => {
      expect(parse(twilioFixture('whatsapp-text'))).toEqual([
        {
          channel: 'twilio:whatsapp',
          providerMessageId: 'SM7d6c5b4a39281706f5e4d3c2b1a09f8e',
          customerAddress: CUSTOMER,
          businessAddress: BUSINESS,
          displayName: 'Ada Lovelace',
          text: 'Hello, is anyone there?',
          attachments: [],
          receivedAt: 42,
        },
      ]);
    });

    it('turns a WhatsApp location into a text with a map link', () => {
      const [message] = parse(twilioFixture('whatsapp-location'));
      expect(message.channel).toBe('twilio:whatsapp');
      expect(message.text).toBe(
        'Shared a location: The Harrow Club, 187 Freston Road, London, Greater London W10 6TH\n' +
          'https://www.google.com/maps/search/?api=1&query=51.51322977399644,-0.2197976373036567',
      );
      const bare = changedFixture('whatsapp-location', { Label: undefined, Address: undefined });
      expect(parse(bare)[0].text).toBe(
        'Shared a location\n' +
          'https://www.google.com/maps/search/?api=1&query=51.51322977399644,-0.2197976373036567',
      );
    });

    it('tells the agent of a message it cannot show, whatever its type', () => {
      const unknown = changedFixture('whatsapp-text', { Body: '', MessageType: 'unsupported' });
      expect(parse(unknown)[0]).toMatchObject({
        text: 'The customer sent a message that cannot be shown here (type: unsupported).',
        attachments: [],
      });
      const untyped = changedFixture('sms', { Body: undefined });
      expect(parse(untyped)[0].text).toBe(
        'The customer sent a message that cannot be shown here (type: unknown).',
      );
      const badLocation = changedFixture('whatsapp-location', { Latitude: '123.4' });
      expect(parse(badLocation)[0].text).toBe(
        'The customer sent a message that cannot be shown here (type: location).',
      );
    });

    it('leaves the text out of a message that is only media', () => {
      const [message] = parse(changedFixture('mms', { Body: '' }));
      expect(message.text).toBeUndefined();
      expect(message.attachments).toHaveLength(2);
    });

    it('takes the media NumMedia announces, at most 10', () => {
      // The fixture has MediaUrl0 and MediaUrl1; `more` adds MediaUrl2 onwards.
      const withMedia = (numMedia: number, more: number) => {
        const params = new URLSearchParams(changedFixture('mms', { NumMedia: String(numMedia) }));
        for (let n = 2; n < 2 + more; n += 1) {
          params.append(`MediaUrl${n}`, `https://api.twilio.com/media/${n}`);
          params.append(`MediaContentType${n}`, 'image/gif');
        }
        return params.toString();
      };
      expect(parse(withMedia(1, 0))[0].attachments).toHaveLength(1);
      expect(parse(withMedia(12, 10))[0].attachments).toHaveLength(10);
    });

    it.each([
      [{ MessageSid: undefined }, 'MessageSid is required'],
      [{ From: undefined }, 'From is required'],
      [{ To: '' }, 'To is required'],
      [{ AccountSid: `AC${'f'.repeat(32)}` }, 'AccountSid is not the configured Twilio account'],
      [{ AccountSid: undefined }, 'AccountSid is not the configured Twilio account'],
    ])('refuses %p: %s', (changes, reason) => {
      const body = changedFixture('sms', changes);
      expect(() => parse(body)).toThrow(InvalidWebhookError);
      expect(() => parse(body)).toThrow(reason);
    });
  });

  describe('download', () => {
    const servers: Server[] = [];
    const seen: IncomingHttpHeaders[] = [];

    const startFileServer = async () => {
      const server = createServer((req, res) => {
        seen.push(req.headers);
        res.writeHead(200, { 'content-type': 'image/jpeg' }).end('jpeg bytes');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };

    afterAll(async () => {
      await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
    });

    it("sends the account's credentials to Twilio's API and nowhere else", async () => {
      const twilioApi = await startFileServer();
      const elsewhere = await startFileServer();
      const channel = channelWith({ TWILIO_API_BASE_URL: twilioApi });

      const fetched = await channel.download({
        source: `${twilioApi}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/MM1/Media/ME1`,
        contentType: 'image/jpeg',
      });
      expect(fetched).toEqual({ content: Buffer.from('jpeg bytes'), contentType: 'image/jpeg' });
      const basic = Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64');
      expect(seen.at(-1)?.authorization).toBe(`Basic ${basic}`);

      await channel.download({ source: `${elsewhere}/photo.jpg`, contentType: 'image/jpeg' });
      expect(seen.at(-1)?.authorization).toBeUndefined();
    });
  });

  describe('send', () => {
    let twilio: FakeTwilio;
    let channel: TwilioChannel;

    beforeAll(async () => {
      twilio = await FakeTwilio.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
      channel = channelWith({ TWILIO_API_BASE_URL: twilio.url });
    });

    afterEach(() => twilio.clearFaults());

    afterAll(() => twilio.close());

    const message = (channelName: string) => ({
      channel: channelName,
      id: 'item-1#0',
      customerAddress: CUSTOMER,
      businessAddress: BUSINESS,
      text: 'Your parcel ships today',
      attachments: [
        { url: 'https://files.example.com/label.pdf', contentType: 'application/pdf' },
        { url: 'https://files.example.com/map.png', contentType: 'image/png' },
      ],
    });

    it('creates an SMS with the media and the status callback, and returns its sid', async () => {
      const receipt = await channel.send(message('twilio:sms'));
      const sent = twilio.messages().at(-1)!;
      expect(receipt).toEqual({ providerMessageId: sent.sid });
      expect(sent.sid).toMatch(/^SM[0-9a-f]{32}$/);
      expect(sent).toMatchObject({
        authUser: ACCOUNT_SID,
        to: CUSTOMER,
        from: BUSINESS,
        body: 'Your parcel ships today',
        mediaUrls: ['https://files.example.com/label.pdf', 'https://files.example.com/map.png'],
        statusCallback: `${PUBLIC_BASE_URL}/webhooks/twilio/status`,
      });
    });

    it('prefixes both addresses for WhatsApp and sends no Body without text', async () => {
      await channel.send({ ...message('twilio:whatsapp'), text: undefined });
      const sent = twilio.messages().at(-1)!;
      expect(sent).toMatchObject({ to: `whatsapp:${CUSTOMER}`, from: `whatsapp:${BUSINESS}` });
      expect(sent.params).not.toHaveProperty('Body');
    });

    it.each([429, 503])('retries HTTP %p', async (status) => {
      twilio.failNext({ status });
      const sent = channel.send(message('twilio:sms'));
      await expect(sent).rejects.toBeInstanceOf(ChannelSendError);
      await expect(sent).rejects.toMatchObject({ retryable: true, status });
    });

    it.each([
      [21610, 'Twilio error 21610: Attempt to send to unsubscribed recipient (HTTP 400)'],
      [21211, "Twilio error 21211: Invalid 'To' Phone Number (HTTP 400)"],
    ])('gives up on error %p, saying why', async (code, reason) => {
      twilio.failNext({ status: 400, code });
      await expect(channel.send(message('twilio:sms'))).rejects.toMatchObject({
        retryable: false,
        status: 400,
        reason,
      });
    });

    it('gives up when Twilio refuses the credentials', async () => {
      const wrongToken = channelWith({
        TWILIO_API_BASE_URL: twilio.url,
        TWILIO_AUTH_TOKEN: 'not-the-token',
      });
      await expect(wrongToken.send(message('twilio:sms'))).rejects.toMatchObject({
        retryable: false,
        status: 401,
        reason: 'Twilio error 20003: Authenticate (HTTP 401)',
      });
    });

    it('retries when Twilio does not answer', async () => {
      twilio.failNext({ unreachable: true });
      await expect(channel.send(message('twilio:sms'))).rejects.toMatchObject({ retryable: true });
      const nowhere = channelWith({ TWILIO_API_BASE_URL: 'http://127.0.0.1:9' });
      await expect(nowhere.send(message('twilio:sms'))).rejects.toMatchObject({
        retryable: true,
        reason: expect.stringMatching(/^Twilio did not answer: /),
      });
    });
  });
});
