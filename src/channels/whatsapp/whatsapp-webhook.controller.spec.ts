import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import request from 'supertest';
import { AppConfig, ConfigModule } from '../../config';
import { ConversationStore, ConversationTrace } from '../../conversations';
import { bodyParsers } from '../../http/body-parsing';
import { Metrics } from '../../ops/metrics';
import { InboundIntake, type InboundMessage } from '../../relay';
import { WebhookPipeline } from '../webhook-pipeline';
import { metaWebhookSignature } from '../../sandbox/providers';
import { WhatsAppChannel } from './whatsapp-channel';
import { WhatsAppWebhookController } from './whatsapp-webhook.controller';

const APP_SECRET = 'meta-app-secret';
const VERIFY_TOKEN = 'meta-verify-token';
const base = {
  AWS_REGION: 'us-east-1',
  CONNECT_INSTANCE_ID: 'i',
  CONNECT_CONTACT_FLOW_ID: 'f',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
};
const whatsappEnv = {
  WHATSAPP_ACCESS_TOKEN: 'meta-access-token',
  WHATSAPP_APP_SECRET: APP_SECRET,
  WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
};

const textWebhook = JSON.stringify({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: '102290129340398',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
            contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
            messages: [
              {
                from: '16505551234',
                id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
                timestamp: '1749416383',
                type: 'text',
                text: { body: 'Does it come in another color?' },
              },
            ],
          },
        },
      ],
    },
  ],
});

async function startApp(env: Record<string, string>) {
  const accept = jest.fn((messages: InboundMessage[]) =>
    Promise.resolve(messages.map(() => 'accepted' as const)),
  );
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(AppConfig.fromEnv({ ...base, ...env }))],
    controllers: [WhatsAppWebhookController],
    providers: [
      WhatsAppChannel,
      WebhookPipeline,
      Metrics,
      { provide: InboundIntake, useValue: { accept } },
      { provide: ConversationStore, useValue: { exists: () => Promise.resolve(false) } },
      { provide: ConversationTrace, useValue: { append: jest.fn() } },
    ],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    bodyParser: false,
    logger: false,
  });
  for (const { path, handler } of bodyParsers(1024 * 1024)) app.use(path, handler);
  await app.init();
  return { app, server: app.getHttpServer(), accept };
}

describe('WhatsAppWebhookController', () => {
  describe('enabled', () => {
    let app: NestExpressApplication;
    let server: Server;
    let accept: jest.Mock;

    beforeAll(async () => {
      ({ app, server, accept } = await startApp(whatsappEnv));
    });

    afterAll(() => app.close());

    beforeEach(() => accept.mockClear());

    it("answers Meta's subscription check with the challenge as plain text", async () => {
      const res = await request(server).get('/webhooks/whatsapp').query({
        'hub.mode': 'subscribe',
        'hub.verify_token': VERIFY_TOKEN,
        'hub.challenge': '1158201444',
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('1158201444');
    });

    it('refuses the subscription check with another verify token', async () => {
      const res = await request(server)
        .get('/webhooks/whatsapp')
        .query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'guess', 'hub.challenge': '1' });
      expect(res.status).toBe(403);
      expect(res.text).not.toContain('"1"');
    });

    it('accepts a signed notification and hands its messages over', async () => {
      const res = await request(server)
        .post('/webhooks/whatsapp')
        .set('content-type', 'application/json')
        .set('x-hub-signature-256', metaWebhookSignature(APP_SECRET, textWebhook))
        .send(textWebhook);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accepted: 1, duplicates: 0, statuses: 0 });
      expect(accept).toHaveBeenCalledWith([
        expect.objectContaining({
          channel: 'meta:whatsapp',
          customerAddress: '+16505551234',
          businessAddress: '106540352242922',
          text: 'Does it come in another color?',
        }),
      ]);
    });

    it('answers 401 to a notification signed with another secret', async () => {
      const res = await request(server)
        .post('/webhooks/whatsapp')
        .set('content-type', 'application/json')
        .set('x-hub-signature-256', metaWebhookSignature('another-secret', textWebhook))
        .send(textWebhook);
      expect(res.status).toBe(401);
      expect(accept).not.toHaveBeenCalled();
    });

    it('answers 400 to a signed body that is not a WhatsApp webhook', async () => {
      const body = '{"object":"page","entry":[]}';
      const res = await request(server)
        .post('/webhooks/whatsapp')
        .set('content-type', 'application/json')
        .set('x-hub-signature-256', metaWebhookSignature(APP_SECRET, body))
        .send(body);
      expect(res.status).toBe(400);
      expect(accept).not.toHaveBeenCalled();
    });
  });

  it('answers 404 naming the variables when the channel is not configured', async () => {
    const { app, server } = await startApp({});
    try {
      const check = await request(server).get('/webhooks/whatsapp');
      const notification = await request(server).post('/webhooks/whatsapp').send({});
      for (const res of [check, notification]) {
        expect(res.status).toBe(404);
        expect(res.text).toContain('WHATSAPP_APP_SECRET');
      }
    } finally {
      await app.close();
    }
  });
});
