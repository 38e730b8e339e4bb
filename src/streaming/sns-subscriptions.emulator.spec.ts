import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { Logger } from '@nestjs/common';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppConfig } from '../config';
import { ConnectEmulator } from '../sandbox/emulator';
import { SnsMessageVerifier, SnsSubscriptions, type VerifiedSnsMessage } from './index';

const credentials = { accessKeyId: 'emulator', secretAccessKey: 'emulator' };

describe('SnsSubscriptions against the SNS emulator', () => {
  let emulator: ConnectEmulator;
  let otherTopicArn: string;
  let receiver: http.Server;
  let receiverUrl: string;
  /** Envelopes POSTed to the receiver, with the path they were POSTed to. */
  let received: { path: string; envelope: unknown }[];
  const clients: SNSClient[] = [];

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => {});
    emulator = await ConnectEmulator.start({ topicNames: ['connect-chat-stream', 'other-topic'] });
    otherTopicArn = emulator.topicArn.replace(/connect-chat-stream$/, 'other-topic');
    received = [];
    receiver = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({ path: req.url ?? '', envelope: JSON.parse(body) });
        res.writeHead(200).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await emulator.close();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
    jest.restoreAllMocks();
  });

  function configWith(env: Record<string, string> = {}): AppConfig {
    return AppConfig.fromEnv({ ...emulator.bridgeEnvironment(), ...env });
  }

  function snsClient(): SNSClient {
    const client = new SNSClient({
      region: emulator.region,
      endpoint: emulator.url,
      credentials,
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  }

  /** A replica: its own client, the same configuration. */
  const replica = (config: AppConfig) => new SnsSubscriptions(config, snsClient(), { attempts: 1 });

  /** Verifies what the receiver got, as the webhook will. */
  async function verifiedConfirmations(config: AppConfig) {
    await emulator.sns.idle();
    const verifier = new SnsMessageVerifier(config);
    const messages: VerifiedSnsMessage[] = await Promise.all(
      received.map(({ envelope }) => verifier.verify(envelope)),
    );
    return messages.flatMap((message) =>
      message.kind === 'subscription-confirmation' ? [message] : [],
    );
  }

  it('confirms a pending subscription with the token of a verified confirmation', async () => {
    const config = configWith();
    await snsClient().send(
      new SubscribeCommand({
        TopicArn: emulator.topicArn,
        Protocol: 'http',
        Endpoint: receiverUrl,
      }),
    );
    const [confirmation] = await verifiedConfirmations(config);
    expect(emulator.sns.subscriptions().map((s) => s.status)).toEqual(['pending']);

    const subscriptionArn = await replica(config).confirm(
      confirmation.topicArn,
      confirmation.token,
    );

    expect(emulator.sns.subscriptions()).toEqual([
      expect.objectContaining({ arn: subscriptionArn, status: 'confirmed', endpoint: receiverUrl }),
    ]);
    // AuthenticateOnUnsubscribe: the UnsubscribeURL alone no longer ends the subscription.
    expect(() => emulator.sns.unsubscribe(subscriptionArn, { authenticated: false })).toThrow(
      /not authorized/,
    );
  });

  it('refuses to confirm a subscription to a topic outside the allow-list', async () => {
    await snsClient().send(
      new SubscribeCommand({ TopicArn: otherTopicArn, Protocol: 'http', Endpoint: receiverUrl }),
    );
    await emulator.sns.idle();
    const token = (received[0].envelope as { Token: string }).Token;

    await expect(replica(configWith()).confirm(otherTopicArn, token)).rejects.toThrow(
      /not in SNS_TOPIC_ARNS/,
    );
    expect(emulator.sns.subscriptions().map((s) => s.status)).toEqual(['pending']);
  });

  it('subscribes the webhook to every allowed topic once, however many replicas start', async () => {
    const config = configWith({
      SNS_SUBSCRIBE_ON_START: 'true',
      PUBLIC_BASE_URL: `${receiverUrl}/`,
      SNS_TOPIC_ARNS: `${emulator.topicArn},${otherTopicArn}`,
    });
    const endpoint = `${receiverUrl}/webhooks/connect`;

    const first = await replica(config).subscribeOnStart();
    const second = await replica(config).subscribeOnStart(); // before confirmation

    const pending = [emulator.topicArn, otherTopicArn].map((topicArn) => ({
      topicArn,
      outcome: 'pending-confirmation',
    }));
    expect(first).toEqual(pending);
    expect(second).toEqual(pending);
    const subscriptions = emulator.sns.subscriptions();
    expect(subscriptions).toHaveLength(2);
    expect(subscriptions).toEqual(
      expect.arrayContaining(
        [emulator.topicArn, otherTopicArn].map((topicArn): unknown =>
          expect.objectContaining({ topicArn, protocol: 'http', endpoint, status: 'pending' }),
        ),
      ),
    );

    // Every run asked SNS to send a confirmation; confirming them all is harmless too.
    const confirmations = await verifiedConfirmations(config);
    expect(received.map(({ path }) => path)).toEqual(Array(4).fill('/webhooks/connect'));
    const confirmer = replica(config);
    for (const { topicArn, token } of confirmations) await confirmer.confirm(topicArn, token);

    const third = await replica(config).subscribeOnStart(); // after confirmation
    expect(third).toEqual(
      subscriptions.map(({ topicArn, arn }) => ({
        topicArn,
        outcome: 'confirmed',
        subscriptionArn: arn,
      })),
    );
    expect(emulator.sns.subscriptions()).toEqual(
      subscriptions.map((subscription) => ({ ...subscription, status: 'confirmed' })),
    );
  });

  it('subscribes nothing unless SNS_SUBSCRIBE_ON_START is true', async () => {
    const config = configWith({ PUBLIC_BASE_URL: receiverUrl });

    await expect(replica(config).subscribeOnStart()).resolves.toEqual([]);
    expect(emulator.sns.subscriptions()).toEqual([]);
  });
});
