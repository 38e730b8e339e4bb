import { Logger } from '@nestjs/common';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppConfig } from '../../config';
import { Metrics } from '../../ops/metrics';
import { FakeWhatsApp } from '../../sandbox/providers/whatsapp-fake';
import { ChannelSendError, InvalidWebhookError, type OutboundMessage } from '../channel-adapter';
import { metaWebhookSignature } from '../../sandbox/providers';
import { WhatsAppChannel } from './whatsapp-channel';

const ACCESS_TOKEN = 'meta-access-token';
const APP_SECRET = 'meta-app-secret';
const VERIFY_TOKEN = 'meta-verify-token';
const PHONE_NUMBER_ID = '106540352242922';
const base = {
  AWS_REGION: 'us-east-1',
  CONNECT_INSTANCE_ID: 'i',
  CONNECT_CONTACT_FLOW_ID: 'f',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
};

function channelWith(graphApiBaseUrl = 'https://graph.facebook.com/v23.0') {
  const metrics = new Metrics();
  const config = AppConfig.fromEnv({
    ...base,
    WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
    WHATSAPP_APP_SECRET: APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
    WHATSAPP_GRAPH_API_BASE_URL: graphApiBaseUrl,
  });
  return { channel: new WhatsAppChannel(config, metrics), metrics };
}
const disabledChannel = () => new WhatsAppChannel(AppConfig.fromEnv(base), new Metrics());

const request = (body: string, headers: IncomingHttpHeaders = {}) => ({
  headers,
  url: '/webhooks/whatsapp',
  rawBody: Buffer.from(body),
  body: JSON.parse(body) as unknown,
  params: {},
});

describe('WhatsAppChannel', () => {
  it('is enabled by the WhatsApp credentials', () => {
    expect(channelWith().channel.enabled).toBe(true);
    expect(disabledChannel().enabled).toBe(false);
  });

  describe('verify', () => {
    const body = '{"object":"whatsapp_business_account","entry":[]}';
    const signed = (signature: string) => request(body, { 'x-hub-signature-256': signature });

    it('accepts the HMAC-SHA256 of the raw body with the app secret, in either hex case', () => {
      const { channel } = channelWith();
      const signature = metaWebhookSignature(APP_SECRET, body);
      expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(channel.verify(signed(signature))).toBe(true);
      expect(channel.verify(signed(`sha256=${signature.slice(7).toUpperCase()}`))).toBe(true);
    });

    it.each([
      ['another secret', metaWebhookSignature('another-secret', body)],
      ['a tampered body', metaWebhookSignature(APP_SECRET, body.replace('[]', '[{}]'))],
      ['a sha1= prefix', `sha1=${metaWebhookSignature(APP_SECRET, body).slice(7)}`],
      ['a truncated signature', metaWebhookSignature(APP_SECRET, body).slice(0, 40)],
    ])('refuses %s', (_, signature) => {
      expect(channelWith().channel.verify(signed(signature))).toBe(false);
    });

    it('refuses a missing header, and everything when disabled', () => {
      expect(channelWith().channel.verify(request(body))).toBe(false);
      expect(disabledChannel().verify(signed(metaWebhookSignature(APP_SECRET, body)))).toBe(false);
    });
  });

  describe('verifySubscription', () => {
    const query = {
      'hub.mode': 'subscribe',
      'hub.verify_token': VERIFY_TOKEN,
      'hub.challenge': '1158201444',
    };

    it('answers the challenge when the verify token matches', () => {
      expect(channelWith().channel.verifySubscription(query)).toBe('1158201444');
    });

    it.each<[string, Record<string, unknown>]>([
      ['another token', { ...query, 'hub.verify_token': 'meta-verify-tokeN' }],
      ['a longer token', { ...query, 'hub.verify_token': `${VERIFY_TOKEN}x` }],
      ['another mode', { ...query, 'hub.mode': 'unsubscribe' }],
      ['a repeated token', { ...query, 'hub.verify_token': [VERIFY_TOKEN, VERIFY_TOKEN] }],
      ['no challenge', { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN }],
    ])('refuses %s', (_, given) => {
      expect(channelWith().channel.verifySubscription(given)).toBeUndefined();
    });

    it('refuses everything when disabled', () => {
      expect(disabledChannel().verifySubscription(query)).toBeUndefined();
    });
  });

  describe('parse', () => {
    afterEach(() => jest.restoreAllMocks());

    it('reads the body and logs what it leaves out, without the content', () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '102290129340398',
            changes: [
              {
                field: 'messages',
                value: {
                  metadata: { phone_number_id: PHONE_NUMBER_ID },
                  messages: [
                    { id: 'wamid.A', type: 'text', text: { body: 'no sender' } },
                    { from: '16505551234', id: 'wamid.B', type: 'text', text: { body: 'hi' } },
                  ],
                },
              },
            ],
          },
        ],
      });
      expect(channelWith().channel.parse(request(body), 7)).toEqual({
        messages: [
          {
            channel: 'meta:whatsapp',
            providerMessageId: 'wamid.B',
            customerAddress: '+16505551234',
            businessAddress: PHONE_NUMBER_ID,
            text: 'hi',
            attachments: [],
            receivedAt: 7,
          },
        ],
        statuses: [],
      });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(JSON.stringify(warn.mock.calls)).not.toContain('no sender');
    });

    it('refuses a body that is not a WhatsApp Business Account webhook', () => {
      const parse = () => channelWith().channel.parse(request('{"object":"page","entry":[]}'), 0);
      expect(parse).toThrow(InvalidWebhookError);
    });
  });

  describe('download', () => {
    let graph: Server;
    let graphUrl: string;
    const seen: { url: string; authorization?: string }[] = [];
    const FILE = Buffer.from('%PDF-1.7 receipt');

    beforeAll(async () => {
      graph = createServer((req, res) => {
        seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
        if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(
            '{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}',
          );
        } else if (req.url === '/v23.0/1090713019485021') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              messaging_product: 'whatsapp',
              url: `${graphUrl}/whatsapp_business/attachments/?mid=1090713019485021`,
              mime_type: 'application/pdf',
              sha256: 'abc',
              file_size: String(FILE.length),
              id: '1090713019485021',
            }),
          );
        } else if (req.url === '/whatsapp_business/attachments/?mid=1090713019485021') {
          res.writeHead(200, { 'content-type': 'application/pdf' }).end(FILE);
        } else if (req.url === '/v23.0/503503') {
          res.writeHead(503).end();
        } else {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(
            '{"error":{"message":"Unsupported get request.","type":"GraphMethodException","code":100,"error_subcode":33}}',
          );
        }
      });
      await new Promise<void>((resolve) => graph.listen(0, '127.0.0.1', resolve));
      graphUrl = `http://127.0.0.1:${(graph.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise((resolve) => graph.close(resolve));
    });

    beforeEach(() => (seen.length = 0));

    const download = (source: string) =>
      channelWith(`${graphUrl}/v23.0`).channel.download({
        source,
        contentType: 'application/pdf',
        name: 'receipt.pdf',
      });

    it('looks the media id up, then fetches the file, with the access token both times', async () => {
      await expect(download('1090713019485021')).resolves.toEqual({
        content: FILE,
        contentType: 'application/pdf',
      });
      expect(seen).toEqual([
        { url: '/v23.0/1090713019485021', authorization: `Bearer ${ACCESS_TOKEN}` },
        {
          url: '/whatsapp_business/attachments/?mid=1090713019485021',
          authorization: `Bearer ${ACCESS_TOKEN}`,
        },
      ]);
    });

    it('tells the agent when WhatsApp does not have the file', async () => {
      await expect(download('404404')).resolves.toEqual({
        refusal: 'WhatsApp has no such file, or no longer has it (HTTP 404, error 100)',
      });
    });

    it('throws on a passing failure so that the relay retries', async () => {
      await expect(download('503503')).rejects.toThrow('HTTP 503');
    });

    it('never puts a media id that is not one into a URL', async () => {
      await expect(download('../../me/accounts')).resolves.toEqual({
        refusal: 'its WhatsApp media id is not valid',
      });
      expect(seen).toEqual([]);
    });
  });

  describe('send', () => {
    let fake: FakeWhatsApp;
    let channel: WhatsAppChannel;
    let metrics: Metrics;

    beforeAll(async () => {
      fake = await FakeWhatsApp.start({
        accessToken: ACCESS_TOKEN,
        phoneNumberId: PHONE_NUMBER_ID,
      });
    });

    afterAll(() => fake.close());

    beforeEach(() => {
      fake.clearMessages();
      fake.clearFaults();
      ({ channel, metrics } = channelWith(`${fake.url}/v23.0`));
    });

    const message = (overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
      channel: 'meta:whatsapp',
      id: 'item-1',
      customerAddress: '+16505551234',
      businessAddress: PHONE_NUMBER_ID,
      text: 'Your order ships today: https://example.com/track/1',
      attachments: [],
      ...overrides,
    });
    const file = (contentType: string, name: string) => ({
      url: `https://files.example.com/${name}`,
      contentType,
      name,
    });

    it('sends a text from the business number and returns the wamid', async () => {
      const receipt = await channel.send(message());
      const [sent] = fake.messages();
      expect(receipt).toEqual({ providerMessageId: sent.id });
      expect(sent.id).toMatch(/^wamid\./);
      expect(sent).toMatchObject({
        phoneNumberId: PHONE_NUMBER_ID,
        apiVersion: 'v23.0',
        accessToken: ACCESS_TOKEN,
      });
      expect(sent.payload).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '+16505551234',
        type: 'text',
        text: { body: 'Your order ships today: https://example.com/track/1', preview_url: true },
      });
    });

    it('sends an image by link, with the text as its caption', async () => {
      await channel.send(
        message({ text: 'the label', attachments: [file('image/jpeg', 'label.jpg')] }),
      );
      expect(fake.messages()[0].payload).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '+16505551234',
        type: 'image',
        image: { link: 'https://files.example.com/label.jpg', caption: 'the label' },
      });
    });

    it.each([
      ['application/pdf', 'invoice.pdf', 'document', { filename: 'invoice.pdf' }],
      ['image/gif', 'dance.gif', 'document', { filename: 'dance.gif' }],
      ['video/mp4', 'how-to.mp4', 'video', {}],
      ['audio/mpeg', 'message.mp3', 'audio', {}],
    ])('sends %s as a %s', async (contentType, name, type, extra) => {
      await channel.send(message({ text: undefined, attachments: [file(contentType, name)] }));
      const [sent] = fake.messages();
      expect(sent.type).toBe(type);
      expect(sent.media).toEqual({ link: `https://files.example.com/${name}`, ...extra });
    });

    it('refuses for good what one WhatsApp message cannot carry, sending nothing', async () => {
      const audioWithText = message({ attachments: [file('audio/ogg', 'note.ogg')] });
      await expect(channel.send(audioWithText)).rejects.toMatchObject({
        retryable: false,
        reason: 'WhatsApp audio cannot carry a caption; send the text apart',
      });
      const twoFiles = message({
        text: undefined,
        attachments: [file('image/png', 'a.png'), file('image/png', 'b.png')],
      });
      await expect(channel.send(twoFiles)).rejects.toMatchObject({ retryable: false });
      expect(fake.messages()).toEqual([]);
    });

    it('refuses for good outside the 24-hour window, and counts it per phone number id', async () => {
      fake.failNext({ status: 400, code: 131047 });
      const sent = channel.send(message());
      await expect(sent).rejects.toBeInstanceOf(ChannelSendError);
      await expect(sent).rejects.toMatchObject({
        retryable: false,
        status: 400,
        reason: expect.stringContaining(
          'WhatsApp error 131047: the customer last wrote more than 24 hours ago',
        ),
      });
      expect(
        await metrics.registry.getSingleMetricAsString('whatsapp_outside_window_total'),
      ).toContain(`whatsapp_outside_window_total{phone_number_id="${PHONE_NUMBER_ID}"} 1`);
    });

    it.each([
      [400, 130429],
      [400, 131056],
      [400, 80007],
      [400, 4],
      [429, 1],
      [503, 131016],
      [500, 1],
    ])('retries HTTP %p with error %p', async (status, code) => {
      fake.failNext({ status, code });
      await expect(channel.send(message())).rejects.toMatchObject({ retryable: true, status });
    });

    it('retries when WhatsApp cannot be reached', async () => {
      fake.failNext({ unreachable: true });
      await expect(channel.send(message())).rejects.toMatchObject({ retryable: true });
    });

    it('refuses for good any other client error, with the Graph code and message', async () => {
      fake.failNext({ status: 400, code: 100 });
      await expect(channel.send(message())).rejects.toMatchObject({
        retryable: false,
        status: 400,
        reason: 'WhatsApp error 100: (#100) Invalid parameter (HTTP 400)',
      });
      expect(
        await metrics.registry.getSingleMetricAsString('whatsapp_outside_window_total'),
      ).not.toMatch(/phone_number_id=/);
    });

    it('refuses for good a business address that is no phone number id', async () => {
      await expect(channel.send(message({ businessAddress: '../../me' }))).rejects.toMatchObject({
        retryable: false,
      });
      expect(fake.messages()).toEqual([]);
    });
  });
});
