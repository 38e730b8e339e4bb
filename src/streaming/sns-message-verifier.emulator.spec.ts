import { listenLocally } from '../../test/support/local-server';
import { type ReceivedSnsEnvelope, rejectionOf } from '../../test/support/sns';
import { Logger } from '@nestjs/common';
import http from 'node:http';
import { AppConfig } from '../config';
import { ConnectEmulator } from '../sandbox/emulator';
import { SnsMessageVerifier, type SnsVerifierOptions } from './index';

type Envelope = ReceivedSnsEnvelope;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  jest.restoreAllMocks();
});

async function listen(handler: http.RequestListener): Promise<string> {
  const local = await listenLocally(http.createServer(handler));
  cleanups.push(local.close);
  return local.url;
}

/** An HTTP endpoint subscribed to the emulator: keeps every envelope SNS POSTs to it. */
async function startReceiver() {
  const envelopes: Envelope[] = [];
  const url = await listen((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      envelopes.push(JSON.parse(body) as Envelope);
      res.writeHead(200).end();
    });
  });
  const ofType = (type: string) => envelopes.filter((envelope) => envelope.Type === type);
  return { url, ofType };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Serves a PEM at its own URL and counts the requests; `statuses` are the answers of the first
 * requests (200 after them).
 */
async function startCertificateServer(pem: string, statuses: number[] = []) {
  let requests = 0;
  const base = await listen((_req, res) => {
    requests++;
    const status = statuses.shift() ?? 200;
    res.writeHead(status, { 'content-type': 'application/x-pem-file' });
    res.end(status === 200 ? pem : 'unavailable');
  });
  const certificateUrl = `${base}/SimpleNotificationService-copy.pem`;
  return { certificateUrl, pattern: `^${escapeRegExp(certificateUrl)}$`, requests: () => requests };
}

describe('SnsMessageVerifier with deliveries from the SNS emulator', () => {
  let emulator: ConnectEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let otherTopicArn: string;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    emulator = await ConnectEmulator.start({ topicNames: ['connect-chat-stream', 'other-topic'] });
    cleanups.push(() => emulator.close());
    otherTopicArn = emulator.topicArn.replace(/connect-chat-stream$/, 'other-topic');
    receiver = await startReceiver();
  });

  function verifierWith(
    env: Record<string, string> = {},
    options: Partial<SnsVerifierOptions> = {},
  ): SnsMessageVerifier {
    const config = AppConfig.fromEnv({ ...emulator.bridgeEnvironment(), ...env });
    return new SnsMessageVerifier(config, options);
  }

  /** Subscribes the receiver, confirms, and answers the SubscriptionConfirmation it got. */
  async function subscribeReceiver(topicArn = emulator.topicArn): Promise<Envelope> {
    emulator.sns.subscribe(topicArn, 'http', receiver.url);
    await emulator.sns.idle();
    const confirmation = receiver.ofType('SubscriptionConfirmation').at(-1);
    if (!confirmation?.Token) throw new Error('no SubscriptionConfirmation arrived');
    emulator.sns.confirmSubscription(topicArn, confirmation.Token);
    return confirmation;
  }

  /** Publishes `count` messages and answers the Notifications the receiver got. */
  async function deliver(count: number, topicArn = emulator.topicArn): Promise<Envelope[]> {
    for (let i = 0; i < count; i++) {
      emulator.sns.publish(topicArn, JSON.stringify({ Content: `message ${i}` }), {
        Index: `${i}`,
      });
    }
    await emulator.sns.idle();
    const notifications = receiver.ofType('Notification');
    expect(notifications).toHaveLength(count);
    return notifications;
  }

  it.each(['1', '2'])(
    'accepts every message type signed with SignatureVersion %s',
    async (version) => {
      emulator.sns.setTopicAttribute(emulator.topicArn, 'SignatureVersion', version);
      const verifier = verifierWith();

      const confirmation = await subscribeReceiver();
      const messageId = emulator.sns.publish(
        emulator.topicArn,
        '{"Content":"hello\\nthere ✓"}',
        { ContactId: 'contact-1', MessageVisibility: 'ALL' },
        'a subject',
      );
      emulator.sns.publish(emulator.topicArn, 'no subject, no attributes');
      await emulator.sns.idle();
      const [withSubject, withoutSubject] = receiver.ofType('Notification');
      const subscription = emulator.sns.subscriptionsOf(emulator.topicArn)[0];
      emulator.sns.unsubscribe(subscription.arn, { authenticated: false });
      await emulator.sns.idle();
      const [unsubscribed] = receiver.ofType('UnsubscribeConfirmation');

      expect(
        [confirmation, withSubject, withoutSubject, unsubscribed].map((e) => e.SignatureVersion),
      ).toEqual([version, version, version, version]);
      await expect(verifier.verify(confirmation)).resolves.toEqual({
        kind: 'subscription-confirmation',
        topicArn: emulator.topicArn,
        token: confirmation.Token,
        subscribeUrl: confirmation.SubscribeURL,
      });
      await expect(verifier.verify(withSubject)).resolves.toEqual({
        kind: 'notification',
        messageId,
        topicArn: emulator.topicArn,
        message: '{"Content":"hello\\nthere ✓"}',
        attributes: { ContactId: 'contact-1', MessageVisibility: 'ALL' },
        timestamp: withSubject.Timestamp,
      });
      await expect(verifier.verify(withoutSubject)).resolves.toMatchObject({
        kind: 'notification',
        message: 'no subject, no attributes',
        attributes: {},
      });
      await expect(verifier.verify(unsubscribed)).resolves.toEqual({
        kind: 'unsubscribe-confirmation',
        topicArn: emulator.topicArn,
      });
    },
  );

  describe('refuses a message whose signed fields were changed', () => {
    const later = (timestamp: string) => new Date(Date.parse(timestamp) + 1).toISOString();

    it.each<[string, (envelope: Envelope, otherTopic: string) => Envelope]>([
      ['Message', (e) => ({ ...e, Message: `${e.Message} ` })],
      [
        'MessageId',
        (e) => ({ ...e, MessageId: e.MessageId.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }),
      ],
      ['Timestamp', (e) => ({ ...e, Timestamp: later(e.Timestamp) })],
      ['TopicArn', (e, otherTopic) => ({ ...e, TopicArn: otherTopic })],
      ['Subject', (e) => ({ ...e, Subject: 'added' })],
      ['Signature', (e) => ({ ...e, Signature: `${e.Signature.slice(0, -8)}AAAAAAA=` })],
    ])('a Notification with another %s', async (_field, tamper) => {
      const verifier = verifierWith({ SNS_TOPIC_ARNS: `${emulator.topicArn},${otherTopicArn}` });
      await subscribeReceiver();
      const [notification] = await deliver(1);
      await expect(verifier.verify(notification)).resolves.toMatchObject({ kind: 'notification' });

      const rejection = await rejectionOf(verifier.verify(tamper(notification, otherTopicArn)));
      expect(rejection).toMatchObject({ reason: 'signature-mismatch', status: 403 });
    });

    it.each<[string, (envelope: Envelope) => Envelope]>([
      ['Type', (e) => ({ ...e, Type: 'UnsubscribeConfirmation' })],
      ['Token', (e) => ({ ...e, Token: `${e.Token}0` })],
      ['SubscribeURL', (e) => ({ ...e, SubscribeURL: `${e.SubscribeURL}&x=1` })],
    ])('a SubscriptionConfirmation with another %s', async (_field, tamper) => {
      const verifier = verifierWith();
      const confirmation = await subscribeReceiver();
      await expect(verifier.verify(confirmation)).resolves.toMatchObject({
        kind: 'subscription-confirmation',
      });

      const rejection = await rejectionOf(verifier.verify(tamper(confirmation)));
      expect(rejection).toMatchObject({ reason: 'signature-mismatch', status: 403 });
    });
  });

  it('refuses a SigningCertURL outside SNS_CERT_URL_PATTERN without fetching it', async () => {
    // The copy serves the genuine certificate: only the URL check stands in the way.
    const copy = await startCertificateServer(emulator.sns.certificatePem);
    await subscribeReceiver();
    const [notification] = await deliver(1);
    const moved = { ...notification, SigningCertURL: copy.certificateUrl };

    const rejection = await rejectionOf(verifierWith().verify(moved));

    expect(rejection).toMatchObject({ reason: 'certificate-url-not-allowed', status: 403 });
    expect(copy.requests()).toBe(0);
    // The same envelope passes where the copy's URL is allowed, and that fetches it.
    const trusting = verifierWith({ SNS_CERT_URL_PATTERN: copy.pattern });
    await expect(trusting.verify(moved)).resolves.toMatchObject({ kind: 'notification' });
    expect(copy.requests()).toBe(1);
  });

  it('refuses a topic outside the allow-list', async () => {
    await subscribeReceiver(otherTopicArn);
    const [notification] = await deliver(1, otherTopicArn);

    const rejection = await rejectionOf(verifierWith().verify(notification));

    expect(rejection).toMatchObject({ reason: 'topic-not-allowed', status: 403 });
    const widened = verifierWith({ SNS_TOPIC_ARNS: `${emulator.topicArn},${otherTopicArn}` });
    await expect(widened.verify(notification)).resolves.toMatchObject({
      topicArn: otherTopicArn,
    });
  });

  it.each(['3', '0', 'v2', ' 1'])('refuses SignatureVersion %p', async (version) => {
    await subscribeReceiver();
    const [notification] = await deliver(1);

    const rejection = await rejectionOf(
      verifierWith().verify({ ...notification, SignatureVersion: version }),
    );

    expect(rejection).toMatchObject({ reason: 'unsupported-signature-version', status: 403 });
  });

  it('refuses a version-1 signature presented as version 2', async () => {
    await subscribeReceiver();
    const [notification] = await deliver(1);
    expect(notification.SignatureVersion).toBe('1');

    const rejection = await rejectionOf(
      verifierWith().verify({ ...notification, SignatureVersion: '2' }),
    );

    expect(rejection).toMatchObject({ reason: 'signature-mismatch', status: 403 });
  });

  it('fetches the certificate once for many messages, concurrent ones included', async () => {
    const copy = await startCertificateServer(emulator.sns.certificatePem);
    const verifier = verifierWith({ SNS_CERT_URL_PATTERN: copy.pattern });
    await subscribeReceiver();
    const notifications = (await deliver(6)).map((notification) => ({
      ...notification,
      SigningCertURL: copy.certificateUrl,
    }));

    const concurrent = await Promise.all(notifications.slice(0, 3).map((n) => verifier.verify(n)));
    for (const notification of notifications.slice(3)) await verifier.verify(notification);

    expect(concurrent.map((message) => message.kind)).toEqual(Array(3).fill('notification'));
    expect(copy.requests()).toBe(1);
  });

  it('forgets a failed certificate fetch and tries again with the next message', async () => {
    const copy = await startCertificateServer(emulator.sns.certificatePem, [500]);
    const verifier = verifierWith({ SNS_CERT_URL_PATTERN: copy.pattern });
    await subscribeReceiver();
    const [first, second, third] = (await deliver(3)).map((notification) => ({
      ...notification,
      SigningCertURL: copy.certificateUrl,
    }));

    const rejection = await rejectionOf(verifier.verify(first));
    expect(rejection).toMatchObject({ reason: 'certificate-unavailable', status: 503 });
    expect(copy.requests()).toBe(1);

    await expect(verifier.verify(second)).resolves.toMatchObject({ kind: 'notification' });
    await expect(verifier.verify(third)).resolves.toMatchObject({ kind: 'notification' });
    expect(copy.requests()).toBe(2);
  });

  it('never logs a token or a signature', async () => {
    const lines: string[] = [];
    for (const level of ['log', 'warn', 'error', 'debug', 'verbose'] as const) {
      jest
        .spyOn(Logger.prototype, level)
        .mockImplementation((...args: unknown[]) => void lines.push(JSON.stringify(args)));
    }
    const verifier = verifierWith();
    const confirmation = await subscribeReceiver();
    const tampered = { ...confirmation, Token: `${confirmation.Token}0` };
    const malformed = { ...confirmation, SubscribeURL: undefined };

    await rejectionOf(verifier.verify(tampered));
    const rejection = await rejectionOf(verifier.verify(malformed));
    await verifier.verify(confirmation);

    expect(rejection.message).toContain('SubscribeURL');
    expect(lines).toHaveLength(2);
    for (const secret of [confirmation.Token ?? '', confirmation.Signature]) {
      expect(lines.join('\n')).not.toContain(secret.slice(0, 24));
      expect(rejection.message).not.toContain(secret.slice(0, 24));
    }
  });
});
