import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppConfig } from '../../config';
import { ChannelSendError, InvalidWebhookError } from '../channel-adapter';
import { GenericChannel, signGenericBody } from './generic-channel';

const SECRET = 'a-generic-secret-of-length';
const base = {
  AWS_REGION: 'us-east-1',
  CONNECT_INSTANCE_ID: 'i',
  CONNECT_CONTACT_FLOW_ID: 'f',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
};
const channelWith = (env: Record<string, string> = {}) =>
  new GenericChannel(AppConfig.fromEnv({ ...base, GENERIC_WEBHOOK_SECRET: SECRET, ...env }));

const request = (body: string, headers: IncomingHttpHeaders = {}, channel = 'app') => ({
  headers,
  url: `/webhooks/generic/${channel}`,
  rawBody: Buffer.from(body),
  body: JSON.parse(body) as unknown,
  params: { channel },
});

describe('GenericChannel', () => {
  describe('verify', () => {
    const body = '{"messageId":"m1","from":"+1","to":"+2","text":"hi"}';

    it('accepts the HMAC-SHA256 of the raw body, in any hex case', () => {
      const channel = channelWith();
      const signature = signGenericBody(SECRET, body);
      expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(channel.verify(request(body, { 'x-signature-256': signature }))).toBe(true);
      expect(
        channel.verify(
          request(body, { 'x-signature-256': signature.toUpperCase().replace('SHA256', 'sha256') }),
        ),
      ).toBe(true);
    });

    it('refuses another key, another body, a missing header, and everything when disabled', () => {
      const channel = channelWith();
      expect(
        channel.verify(request(body, { 'x-signature-256': signGenericBody('other-secret', body) })),
      ).toBe(false);
      expect(
        channel.verify(request(body, { 'x-signature-256': signGenericBody(SECRET, `${body} `) })),
      ).toBe(false);
      expect(channel.verify(request(body, { 'x-signature-256': 'sha256=abc' }))).toBe(false);
      expect(channel.verify(request(body))).toBe(false);
      const disabled = new GenericChannel(AppConfig.fromEnv(base));
      expect(disabled.enabled).toBe(false);
      expect(
        disabled.verify(request(body, { 'x-signature-256': signGenericBody(SECRET, body) })),
      ).toBe(false);
    });
  });

  describe('parse', () => {
    it('normalizes a message', () => {
      const body = JSON.stringify({
        messageId: 'm1',
        from: '+15550001111',
        to: '+15559990000',
        text: 'hi',
        displayName: 'Ada',
        attachments: [
          { url: 'https://files.example.com/a.png', contentType: 'image/png', name: 'a.png' },
        ],
      });
      expect(channelWith().parse(request(body, {}, 'support-app'), 42).messages).toEqual([
        {
          channel: 'generic:support-app',
          providerMessageId: 'm1',
          customerAddress: '+15550001111',
          businessAddress: '+15559990000',
          displayName: 'Ada',
          text: 'hi',
          attachments: [
            { source: 'https://files.example.com/a.png', contentType: 'image/png', name: 'a.png' },
          ],
          receivedAt: 42,
        },
      ]);
    });

    it.each([
      ['{"from":"+1","to":"+2","text":"x"}', 'messageId'],
      ['{"messageId":"m","from":"+1","to":"+2","text":" "}', 'text or at least one attachment'],
      [
        '{"messageId":"m","from":"+1","to":"+2","attachments":[{"url":"ftp://x/y","contentType":"a/b"}]}',
        'attachments.0.url',
      ],
    ])('refuses %s naming %p', (body, reason) => {
      expect(() => channelWith().parse(request(body), 0)).toThrow(InvalidWebhookError);
      expect(() => channelWith().parse(request(body), 0)).toThrow(reason);
    });
  });

  describe('send', () => {
    let server: Server;
    let url: string;
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    let answer = 200;

    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          received.push({ headers: req.headers, body });
          res.writeHead(answer).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    const message = {
      channel: 'generic:app',
      id: 'item-1#0',
      customerAddress: '+15550001111',
      businessAddress: '+15559990000',
      text: 'hello from the agent',
      attachments: [],
    };

    it('POSTs the message to the callback, signed like the webhooks', async () => {
      answer = 200;
      await channelWith({ GENERIC_CALLBACK_URL: url }).send(message);
      const last = received.at(-1)!;
      expect(JSON.parse(last.body)).toEqual({
        messageId: 'item-1#0',
        channel: 'app',
        from: '+15559990000',
        to: '+15550001111',
        text: 'hello from the agent',
        attachments: [],
      });
      expect(last.headers['x-signature-256']).toBe(signGenericBody(SECRET, last.body));
    });

    it.each([
      [503, true],
      [429, true],
      [400, false],
      [404, false],
    ])('turns HTTP %p into a send error, retryable: %p', async (status, retryable) => {
      answer = status;
      const sent = channelWith({ GENERIC_CALLBACK_URL: url }).send(message);
      await expect(sent).rejects.toBeInstanceOf(ChannelSendError);
      await expect(sent).rejects.toMatchObject({ retryable, status });
    });

    it('retries an unreachable callback and refuses for good without one', async () => {
      await expect(
        channelWith({ GENERIC_CALLBACK_URL: 'http://127.0.0.1:9/callback' }).send(message),
      ).rejects.toMatchObject({ retryable: true });
      await expect(channelWith().send(message)).rejects.toMatchObject({
        retryable: false,
        reason: 'GENERIC_CALLBACK_URL is not set',
      });
    });
  });
});
