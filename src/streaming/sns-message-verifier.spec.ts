import { listenLocally } from '../../test/support/local-server';
import { rejectionOf } from '../../test/support/sns';
import { Logger } from '@nestjs/common';
import { createSign } from 'node:crypto';
import http from 'node:http';
import { generate } from 'selfsigned';
import { AppConfig } from '../config';
import { SnsMessageVerifier, type SnsVerifierOptions } from './index';

const TOPIC_ARN = 'arn:aws:sns:us-west-2:123456789012:MyTopic';
const PUBLISHED_AT = '2012-05-02T00:54:06.655Z';
const MINUTE_MS = 60_000;

// Strings to sign written out by hand from the AWS documentation, not built by the code under test.
const NOTIFICATION_STRING_TO_SIGN =
  'Message\n' +
  'Grüße\nfrom "Connect"\n' +
  'MessageId\n' +
  '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n' +
  'Subject\n' +
  'My First Message\n' +
  'Timestamp\n' +
  '2012-05-02T00:54:06.655Z\n' +
  'TopicArn\n' +
  'arn:aws:sns:us-west-2:123456789012:MyTopic\n' +
  'Type\n' +
  'Notification\n';

const CONFIRMATION_STRING_TO_SIGN =
  'Message\n' +
  'You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\n' +
  'To confirm the subscription, visit the SubscribeURL included in this message.\n' +
  'MessageId\n' +
  '165545c9-2a5c-472c-8df2-7ff2be2b3b1b\n' +
  'SubscribeURL\n' +
  'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37fb\n' +
  'Timestamp\n' +
  '2012-05-02T00:54:06.655Z\n' +
  'Token\n' +
  '2336412f37fb\n' +
  'TopicArn\n' +
  'arn:aws:sns:us-west-2:123456789012:MyTopic\n' +
  'Type\n' +
  'SubscriptionConfirmation\n';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(handler: http.RequestListener): Promise<string> {
  const local = await listenLocally(http.createServer(handler));
  cleanups.push(local.close);
  return local.url;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const sign = (text: string, algorithm: string, privateKey: string) =>
  createSign(algorithm).update(text, 'utf8').sign(privateKey, 'base64');

describe('SnsMessageVerifier with a fixed vector', () => {
  let keys: { private: string; cert: string };
  let certificateUrl: string;
  let certificateRequests: number;
  let now: number;

  beforeAll(async () => {
    keys = await generate([{ name: 'commonName', value: 'sns.amazonaws.com' }], {
      keySize: 2048,
      algorithm: 'sha256',
    });
  });

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    now = Date.parse(PUBLISHED_AT) + 1_000;
    certificateRequests = 0;
    const base = await listen((_req, res) => {
      certificateRequests++;
      res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(keys.cert);
    });
    certificateUrl = `${base}/SimpleNotificationService-vector.pem`;
  });

  afterEach(() => jest.restoreAllMocks());

  function verifier(options: Partial<SnsVerifierOptions> = {}): SnsMessageVerifier {
    const config = AppConfig.fromEnv({
      AWS_REGION: 'us-west-2',
      CONNECT_INSTANCE_ID: 'instance-1',
      CONNECT_CONTACT_FLOW_ID: 'flow-1',
      CONNECT_STREAMING_TOPIC_ARN: TOPIC_ARN,
      SNS_CERT_URL_PATTERN: `^${escapeRegExp(certificateUrl)}$`,
    });
    return new SnsMessageVerifier(config, { now: () => now, ...options });
  }

  function notification(signature = sign(NOTIFICATION_STRING_TO_SIGN, 'RSA-SHA256', keys.private)) {
    return {
      Type: 'Notification',
      MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
      TopicArn: TOPIC_ARN,
      Subject: 'My First Message',
      Message: 'Grüße\nfrom "Connect"',
      Timestamp: PUBLISHED_AT,
      SignatureVersion: '2',
      Signature: signature,
      SigningCertURL: certificateUrl,
      UnsubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x',
      MessageAttributes: { ContactId: { Type: 'String', Value: 'contact-1' } },
    };
  }

  function confirmation() {
    return {
      Type: 'SubscriptionConfirmation',
      MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
      Token: '2336412f37fb',
      TopicArn: TOPIC_ARN,
      Message:
        'You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\n' +
        'To confirm the subscription, visit the SubscribeURL included in this message.',
      SubscribeURL:
        'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37fb',
      Timestamp: PUBLISHED_AT,
      SignatureVersion: '1',
      Signature: sign(CONFIRMATION_STRING_TO_SIGN, 'RSA-SHA1', keys.private),
      SigningCertURL: certificateUrl,
    };
  }

  it('accepts a SignatureVersion 2 Notification and refuses it with one byte changed', async () => {
    await expect(verifier().verify(notification())).resolves.toEqual({
      kind: 'notification',
      messageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
      topicArn: TOPIC_ARN,
      message: 'Grüße\nfrom "Connect"',
      attributes: { ContactId: 'contact-1' },
      timestamp: PUBLISHED_AT,
    });

    const changed = { ...notification(), Message: 'Grüße\nfrom "Connect!' };
    const rejection = await rejectionOf(verifier().verify(changed));
    expect(rejection).toMatchObject({ reason: 'signature-mismatch', status: 403 });
  });

  it('refuses the Notification when one byte of the signature changes', async () => {
    const signature = Buffer.from(
      sign(NOTIFICATION_STRING_TO_SIGN, 'RSA-SHA256', keys.private),
      'base64',
    );
    signature[100] ^= 0x01;

    const rejection = await rejectionOf(
      verifier().verify(notification(signature.toString('base64'))),
    );

    expect(rejection).toMatchObject({ reason: 'signature-mismatch', status: 403 });
  });

  it('accepts a SignatureVersion 1 SubscriptionConfirmation and refuses it with one byte changed', async () => {
    await expect(verifier().verify(confirmation())).resolves.toEqual({
      kind: 'subscription-confirmation',
      topicArn: TOPIC_ARN,
      token: '2336412f37fb',
      subscribeUrl: confirmation().SubscribeURL,
    });

    const rejection = await rejectionOf(
      verifier().verify({ ...confirmation(), Token: '2336412f37fc' }),
    );
    expect(rejection).toMatchObject({ reason: 'signature-mismatch', status: 403 });
  });

  it('refuses a signature that is not an RSA signature of the right size', async () => {
    const rejection = await rejectionOf(verifier().verify(notification('AAAA')));
    expect(rejection).toMatchObject({ reason: 'signature-mismatch', status: 403 });
  });

  describe('message age', () => {
    it.each([
      ['64 minutes old', 64 * MINUTE_MS],
      ['4 minutes ahead of our clock', -4 * MINUTE_MS],
    ])('accepts a message %s', async (_case, ageMs) => {
      now = Date.parse(PUBLISHED_AT) + ageMs;
      await expect(verifier().verify(notification())).resolves.toMatchObject({
        kind: 'notification',
      });
    });

    it.each([
      ['over 65 minutes old (past SNS’s longest retry window)', 65 * MINUTE_MS + 1],
      ['over 5 minutes ahead of our clock', -5 * MINUTE_MS - 1],
    ])('refuses a message %s before fetching anything', async (_case, ageMs) => {
      now = Date.parse(PUBLISHED_AT) + ageMs;

      const rejection = await rejectionOf(verifier().verify(notification()));

      expect(rejection).toMatchObject({ reason: 'stale-message', status: 403 });
      expect(certificateRequests).toBe(0);
    });
  });

  describe('malformed envelopes', () => {
    it.each<[string, () => unknown]>([
      ['null', () => null],
      ['a string', () => 'Type=Notification'],
      ['an array', () => [notification()]],
      ['an empty object', () => ({})],
      ['an unknown Type', () => ({ ...notification(), Type: 'Other' })],
      [
        'a Notification without UnsubscribeURL',
        () => ({ ...notification(), UnsubscribeURL: undefined }),
      ],
      ['a Notification without Signature', () => ({ ...notification(), Signature: undefined })],
      ['a confirmation without Token', () => ({ ...confirmation(), Token: undefined })],
      [
        'a confirmation without SubscribeURL',
        () => ({ ...confirmation(), SubscribeURL: undefined }),
      ],
      ['a Signature that is not base64', () => ({ ...notification(), Signature: 'not base64!' })],
      ['a Timestamp that is not ISO 8601', () => ({ ...notification(), Timestamp: 'yesterday' })],
      ['a numeric MessageId', () => ({ ...notification(), MessageId: 42 })],
      ['an empty SignatureVersion', () => ({ ...notification(), SignatureVersion: '' })],
      [
        'a message attribute without Value',
        () => ({ ...notification(), MessageAttributes: { ContactId: { Type: 'String' } } }),
      ],
    ])('answers 400 for %s, fetching nothing', async (_case, body) => {
      const rejection = await rejectionOf(verifier().verify(body()));

      expect(rejection).toMatchObject({ reason: 'malformed-envelope', status: 400 });
      expect(certificateRequests).toBe(0);
    });

    it('names the bad fields, not the sender’s attribute names or values', async () => {
      const rejection = await rejectionOf(
        verifier().verify({
          ...notification(),
          UnsubscribeURL: undefined,
          MessageAttributes: { 'secret-name': { Type: 'String', Value: 42 } },
        }),
      );

      expect(rejection.message).toBe(
        'not an SNS envelope: missing or invalid UnsubscribeURL, MessageAttributes',
      );
    });
  });
});
