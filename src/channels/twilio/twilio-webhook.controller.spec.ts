import { UnauthorizedException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import {
  twilioConfig,
  twilioFixture,
  type TwilioFixture,
} from '../../../test/fixtures/twilio/twilio-fixtures';
import { AppConfig } from '../../config';
import type { WebhookOutcome } from '../webhook-pipeline';
import { WebhookPipeline } from '../webhook-pipeline';
import { TwilioChannel } from './twilio-channel';
import { TwilioStatusWebhook } from './twilio-status-webhook';
import { EMPTY_TWIML, TwilioWebhookController } from './twilio-webhook.controller';

describe('TwilioWebhookController', () => {
  const handle = jest.fn<Promise<WebhookOutcome>, unknown[]>();
  const apps: NestExpressApplication[] = [];

  async function start(config: AppConfig): Promise<string> {
    const moduleRef = await Test.createTestingModule({
      controllers: [TwilioWebhookController],
      providers: [
        TwilioChannel,
        TwilioStatusWebhook,
        { provide: AppConfig, useValue: config },
        { provide: WebhookPipeline, useValue: { handle } },
      ],
    }).compile();
    const app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return app.getUrl();
  }

  const post = (url: string, fixture: TwilioFixture) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: twilioFixture(fixture),
    });

  let baseUrl: string;

  beforeAll(async () => {
    baseUrl = await start(twilioConfig());
  });

  beforeEach(() => {
    handle.mockReset().mockResolvedValue({ accepted: 1, duplicates: 0, statuses: 0 });
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it.each([
    ['/webhooks/twilio', 'sms', TwilioChannel],
    ['/webhooks/twilio/status', 'status-delivered', TwilioStatusWebhook],
  ] as const)('hands %s to the pipeline and answers empty TwiML', async (path, fixture, source) => {
    const res = await post(baseUrl + path, fixture);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await res.text()).toBe(EMPTY_TWIML);
    expect(handle).toHaveBeenCalledTimes(1);
    expect(handle.mock.calls[0][0]).toBeInstanceOf(source);
  });

  it("keeps the pipeline's refusals as JSON", async () => {
    handle.mockRejectedValue(new UnauthorizedException('the signature does not match'));
    const res = await post(`${baseUrl}/webhooks/twilio`, 'sms');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ message: 'the signature does not match' });
  });

  it('answers 404 naming the variables when Twilio is not configured', async () => {
    const disabledUrl = await start(
      AppConfig.fromEnv({
        AWS_REGION: 'us-east-1',
        CONNECT_INSTANCE_ID: 'i',
        CONNECT_CONTACT_FLOW_ID: 'f',
        CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
      }),
    );
    for (const path of ['/webhooks/twilio', '/webhooks/twilio/status']) {
      const res = await post(disabledUrl + path, 'sms');
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({
        message: expect.stringContaining('TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN'),
      });
    }
    expect(handle).not.toHaveBeenCalled();
  });
});
