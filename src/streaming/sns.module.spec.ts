import { SNSClient } from '@aws-sdk/client-sns';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppConfig, ConfigModule } from '../config';
import { ConnectEmulator } from '../sandbox/emulator';
import { SNS_CLIENT, SnsMessageVerifier, SnsSubscriptions, SnsModule } from './index';

describe('SnsModule', () => {
  afterEach(() => jest.restoreAllMocks());

  it('provides the verifier and the subscriptions over a client in the configured region, closed on shutdown', async () => {
    const config = AppConfig.fromEnv({
      AWS_REGION: 'ap-southeast-2',
      CONNECT_INSTANCE_ID: 'instance-1',
      CONNECT_CONTACT_FLOW_ID: 'flow-1',
      CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:ap-southeast-2:123456789012:chat-stream',
    });
    const destroy = jest.spyOn(SNSClient.prototype, 'destroy');
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), SnsModule],
    }).compile();
    await moduleRef.init();

    expect(moduleRef.get(SnsMessageVerifier)).toBeInstanceOf(SnsMessageVerifier);
    const subscriptions = moduleRef.get(SnsSubscriptions);
    await expect(subscriptions.startup).resolves.toEqual([]); // SNS_SUBSCRIBE_ON_START is off
    const client = moduleRef.get<SNSClient>(SNS_CLIENT);
    await expect(client.config.region()).resolves.toBe('ap-southeast-2');

    await moduleRef.close();
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('subscribes on bootstrap when SNS_SUBSCRIBE_ON_START is true', async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => {});
    const emulator = await ConnectEmulator.start();
    try {
      const config = AppConfig.fromEnv({
        ...emulator.bridgeEnvironment(),
        SNS_SUBSCRIBE_ON_START: 'true',
        PUBLIC_BASE_URL: 'https://bridge.example.com',
      });
      const client = new SNSClient({
        region: emulator.region,
        endpoint: emulator.url,
        credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' },
        maxAttempts: 1,
      });
      const moduleRef = await Test.createTestingModule({
        imports: [ConfigModule.forRoot(config), SnsModule],
      })
        .overrideProvider(SNS_CLIENT)
        .useValue(client)
        .compile();

      await moduleRef.init();
      const startup = await moduleRef.get(SnsSubscriptions).startup;
      await moduleRef.close();

      expect(startup).toEqual([{ topicArn: emulator.topicArn, outcome: 'pending-confirmation' }]);
      expect(emulator.sns.subscriptions()).toEqual([
        expect.objectContaining({
          topicArn: emulator.topicArn,
          protocol: 'https',
          endpoint: 'https://bridge.example.com/webhooks/connect',
        }),
      ]);
    } finally {
      await emulator.close();
    }
  });
});
