import { type LocalServer, listenLocally } from '../../../../test/support/local-server';
import type { ReceivedSnsEnvelope } from '../../../../test/support/sns';
import {
  ConfirmSubscriptionCommand,
  CreateTopicCommand,
  GetTopicAttributesCommand,
  InvalidParameterException,
  ListSubscriptionsByTopicCommand,
  NotFoundException,
  PublishCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import express from 'express';
import { verify, X509Certificate } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { SeededRandom } from '../random';
import { SnsService, type SnsFaults, type SnsServiceOptions } from './sns-service';

const REGION = 'us-east-1';
const ACCOUNT_ID = '123456789012';
const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const NO_FAULTS: SnsFaults = { dropRate: 0, duplicateRate: 0 };

type ReceivedEnvelope = ReceivedSnsEnvelope;

interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  envelope: ReceivedEnvelope;
}

/** How the receiver answers a request: a status code, or 'hang' to never answer. */
type Answer = (request: ReceivedRequest, received: ReceivedRequest[]) => number | 'hang';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  jest.restoreAllMocks();
});

/** Listens on 127.0.0.1; `close` (also run after the test) ends the server and its connections. */
async function listen(server: http.Server): Promise<LocalServer> {
  const local = await listenLocally(server);
  cleanups.push(() => (server.listening ? local.close() : undefined));
  return local;
}

/** A local HTTP endpoint that records what SNS POSTs to it. */
async function startReceiver(answer: Answer = () => 200) {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request = {
        path: req.url ?? '',
        headers: req.headers,
        body,
        envelope: JSON.parse(body) as ReceivedEnvelope,
      };
      received.push(request);
      const status = answer(request, received);
      if (status !== 'hang') res.writeHead(status).end();
    });
  });
  const { url, close } = await listen(server);
  const ofType = (type: string, path?: string) =>
    received.filter(
      (request) => request.envelope.Type === type && (path === undefined || request.path === path),
    );
  return { url, received, ofType, close };
}

async function startEmulator(options: Partial<SnsServiceOptions> = {}) {
  let publicUrl = '';
  const service = await SnsService.create({
    region: REGION,
    accountId: ACCOUNT_ID,
    publicUrl: () => publicUrl,
    random: new SeededRandom(1),
    faults: () => NO_FAULTS,
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
  const app = express();
  app.use(service.router);
  publicUrl = (await listen(http.createServer(app))).url;
  const client = new SNSClient({
    endpoint: publicUrl,
    region: REGION,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  cleanups.push(() => {
    service.close();
    client.destroy();
  });
  return { service, client, url: publicUrl };
}

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

async function createTopic({ client }: Emulator, name = 'connect-stream'): Promise<string> {
  const { TopicArn } = await client.send(new CreateTopicCommand({ Name: name }));
  return TopicArn!;
}

/** Subscribes `receiver.url + path` and confirms with the token it received; answers the SubscriptionArn. */
async function confirmedSubscription(
  emulator: Emulator,
  receiver: Receiver,
  topicArn: string,
  path: string,
): Promise<string> {
  const endpoint = `${receiver.url}${path}`;
  await emulator.client.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: endpoint }),
  );
  await emulator.service.idle();
  const token = receiver.ofType('SubscriptionConfirmation', path).at(-1)?.envelope.Token;
  const { SubscriptionArn } = await emulator.client.send(
    new ConfirmSubscriptionCommand({ TopicArn: topicArn, Token: token }),
  );
  return SubscriptionArn!;
}

describe('SnsService Query API, through @aws-sdk/client-sns', () => {
  it('creates a topic, sends a SubscriptionConfirmation, and confirms with the token', async () => {
    const emulator = await startEmulator();
    const receiver = await startReceiver();
    const { client, service } = emulator;

    const topicArn = await createTopic(emulator);
    expect(topicArn).toBe(`arn:aws:sns:${REGION}:${ACCOUNT_ID}:connect-stream`);
    expect(await createTopic(emulator)).toBe(topicArn);
    expect(service.hasTopic(topicArn)).toBe(true);

    const endpoint = `${receiver.url}/a`;
    const subscribed = await client.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: endpoint }),
    );
    expect(subscribed.SubscriptionArn).toBe('pending confirmation');
    await service.idle();

    expect(receiver.received).toHaveLength(1);
    const [{ headers, envelope, body }] = receiver.received;
    expect(headers).toMatchObject({
      'x-amz-sns-message-type': 'SubscriptionConfirmation',
      'x-amz-sns-message-id': envelope.MessageId,
      'x-amz-sns-topic-arn': topicArn,
      'content-type': 'text/plain; charset=UTF-8',
      'user-agent': 'Amazon Simple Notification Service Agent',
    });
    expect(headers['x-amz-sns-subscription-arn']).toBeUndefined();
    expect(Object.keys(envelope)).toEqual([
      'Type',
      'MessageId',
      'Token',
      'TopicArn',
      'Message',
      'SubscribeURL',
      'Timestamp',
      'SignatureVersion',
      'Signature',
      'SigningCertURL',
    ]);
    expect(body.startsWith('{\n  "Type" : "SubscriptionConfirmation",\n')).toBe(true);
    expect(envelope.MessageId).toMatch(UUID);
    expect(envelope.Token).toMatch(/^[0-9a-f]{288}$/);
    expect(envelope.Message).toBe(
      `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    );
    expect(envelope.SubscribeURL).toBe(
      `${emulator.url}/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=${envelope.Token}`,
    );
    expect(envelope.Timestamp).toMatch(ISO_MILLIS);
    expect(envelope.SignatureVersion).toBe('1');
    expect(envelope.SigningCertURL).toMatch(
      new RegExp(`^${emulator.url}/SimpleNotificationService-[0-9a-f]{32}\\.pem$`),
    );

    const listedPending = await client.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }),
    );
    expect(listedPending.Subscriptions).toEqual([
      {
        TopicArn: topicArn,
        Protocol: 'http',
        SubscriptionArn: 'PendingConfirmation',
        Owner: ACCOUNT_ID,
        Endpoint: endpoint,
      },
    ]);
    expect(service.subscriptions()).toEqual([
      expect.objectContaining({ endpoint, protocol: 'http', status: 'pending' }),
    ]);

    const confirmed = await client.send(
      new ConfirmSubscriptionCommand({ TopicArn: topicArn, Token: envelope.Token }),
    );
    const subscriptionArn = confirmed.SubscriptionArn!;
    expect(subscriptionArn).toMatch(new RegExp(`^${topicArn}:[0-9a-f-]{36}$`));
    expect(service.subscriptions()).toEqual([
      { arn: subscriptionArn, topicArn, protocol: 'http', endpoint, status: 'confirmed' },
    ]);
    const listed = await client.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    expect(listed.Subscriptions?.[0]?.SubscriptionArn).toBe(subscriptionArn);

    // Subscribing a confirmed endpoint again answers its ARN and sends nothing.
    const again = await client.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: endpoint }),
    );
    expect(again.SubscriptionArn).toBe(subscriptionArn);
    await service.idle();
    expect(receiver.received).toHaveLength(1);
  });

  it('confirms through a GET of the SubscribeURL and re-sends the confirmation while pending', async () => {
    const emulator = await startEmulator();
    const receiver = await startReceiver();
    const topicArn = await createTopic(emulator);
    const subscribe = (returnArn?: boolean) =>
      emulator.client.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'http',
          Endpoint: `${receiver.url}/b`,
          ReturnSubscriptionArn: returnArn,
        }),
      );

    expect((await subscribe()).SubscriptionArn).toBe('pending confirmation');
    const { SubscriptionArn } = await subscribe(true);
    expect(SubscriptionArn).toMatch(new RegExp(`^${topicArn}:`));
    await emulator.service.idle();
    const confirmations = receiver.ofType('SubscriptionConfirmation');
    expect(confirmations).toHaveLength(2);
    expect(confirmations[0].envelope.Token).not.toBe(confirmations[1].envelope.Token);

    const response = await fetch(confirmations[0].envelope.SubscribeURL!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await response.text()).toMatch(
      new RegExp(
        `^<ConfirmSubscriptionResponse xmlns="${XMLNS}"><ConfirmSubscriptionResult><SubscriptionArn>${SubscriptionArn}</SubscriptionArn></ConfirmSubscriptionResult><ResponseMetadata><RequestId>[0-9a-f-]{36}</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>$`,
      ),
    );
    expect(emulator.service.subscriptions()).toEqual([
      expect.objectContaining({ arn: SubscriptionArn, status: 'confirmed' }),
    ]);
  });

  it('publishes Notifications, through the SDK and through service.publish', async () => {
    const emulator = await startEmulator();
    const receiver = await startReceiver();
    const topicArn = await createTopic(emulator);
    const subscriptionArn = await confirmedSubscription(emulator, receiver, topicArn, '/a');
    await emulator.client.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: `${receiver.url}/p` }),
    );

    const { MessageId } = await emulator.client.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: '{"ContentType":"text/plain","Content":"hello"}',
        Subject: 'Chat message',
        MessageAttributes: {
          ContactId: { DataType: 'String', StringValue: 'contact-1' },
          Count: { DataType: 'Number', StringValue: '3' },
          Blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
        },
      }),
    );
    expect(MessageId).toMatch(UUID);
    await emulator.service.idle();

    const [notification] = receiver.ofType('Notification');
    expect(notification.path).toBe('/a');
    expect(notification.headers).toMatchObject({
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': MessageId,
      'x-amz-sns-topic-arn': topicArn,
      'x-amz-sns-subscription-arn': subscriptionArn,
      'content-type': 'text/plain; charset=UTF-8',
      'user-agent': 'Amazon Simple Notification Service Agent',
    });
    expect(Object.keys(notification.envelope)).toEqual([
      'Type',
      'MessageId',
      'TopicArn',
      'Subject',
      'Message',
      'Timestamp',
      'SignatureVersion',
      'Signature',
      'SigningCertURL',
      'UnsubscribeURL',
      'MessageAttributes',
    ]);
    expect(notification.envelope).toMatchObject({
      Type: 'Notification',
      MessageId,
      TopicArn: topicArn,
      Subject: 'Chat message',
      Message: '{"ContentType":"text/plain","Content":"hello"}',
      SignatureVersion: '1',
      UnsubscribeURL: `${emulator.url}/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
      MessageAttributes: {
        ContactId: { Type: 'String', Value: 'contact-1' },
        Count: { Type: 'Number', Value: '3' },
        Blob: { Type: 'Binary', Value: Buffer.from('hi').toString('base64') },
      },
    });
    expect(notification.envelope.Timestamp).toMatch(ISO_MILLIS);
    expect(notification.envelope.Signature).toMatch(/^[A-Za-z0-9+/]+=*$/);

    const withAttribute = emulator.service.publish(topicArn, 'second', { ContactId: 'contact-2' });
    const bare = emulator.service.publish(topicArn, 'third', {});
    await emulator.service.idle();
    const [, second, third] = receiver.ofType('Notification').map((request) => request.envelope);
    expect(second).toMatchObject({ MessageId: withAttribute, Message: 'second' });
    expect(second).not.toHaveProperty('Subject');
    expect(second.MessageAttributes).toEqual({ ContactId: { Type: 'String', Value: 'contact-2' } });
    expect(third).toMatchObject({ MessageId: bare, Message: 'third' });
    expect(third).not.toHaveProperty('MessageAttributes');

    // The pending subscription got its confirmation and nothing else.
    expect(receiver.received.filter((request) => request.path === '/p')).toHaveLength(1);
  });

  it('sends an UnsubscribeConfirmation on a visit of the UnsubscribeURL, not on the SDK call', async () => {
    const emulator = await startEmulator();
    const receiver = await startReceiver();
    const { client, service } = emulator;
    const topicArn = await createTopic(emulator);
    const subscriptionArn = await confirmedSubscription(emulator, receiver, topicArn, '/a');
    service.publish(topicArn, 'hello', {});
    await service.idle();
    const unsubscribeUrl = receiver.ofType('Notification')[0].envelope.UnsubscribeURL!;

    const response = await fetch(unsubscribeUrl);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(
      new RegExp(`^<UnsubscribeResponse xmlns="${XMLNS}"><ResponseMetadata><RequestId>`),
    );
    expect(service.subscriptions()).toEqual([]);
    await service.idle();
    const [goodbye] = receiver.ofType('UnsubscribeConfirmation');
    expect(goodbye.headers).toMatchObject({
      'x-amz-sns-message-type': 'UnsubscribeConfirmation',
      'x-amz-sns-message-id': goodbye.envelope.MessageId,
      'x-amz-sns-topic-arn': topicArn,
      'x-amz-sns-subscription-arn': subscriptionArn,
    });
    expect(goodbye.envelope.Message).toBe(
      `You have chosen to deactivate subscription ${subscriptionArn}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`,
    );
    expect(goodbye.envelope.SubscribeURL).toBe(
      `${emulator.url}/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=${goodbye.envelope.Token}`,
    );

    service.publish(topicArn, 'nobody listens', {});
    await service.idle();
    expect(receiver.ofType('Notification')).toHaveLength(1);

    // Its SubscribeURL restores the subscription.
    expect((await fetch(goodbye.envelope.SubscribeURL!)).status).toBe(200);
    expect(service.subscriptions()).toEqual([
      expect.objectContaining({ arn: subscriptionArn, status: 'confirmed' }),
    ]);

    await client.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
    await client.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
    await service.idle();
    expect(service.subscriptions()).toEqual([]);
    expect(receiver.ofType('UnsubscribeConfirmation')).toHaveLength(1);
  });

  it("answers errors in SNS's XML form, which the SDK raises as its typed exceptions", async () => {
    const emulator = await startEmulator();
    const { client } = emulator;
    const topicArn = await createTopic(emulator);
    const unknownTopic = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:nope`;
    const rejection = (call: Promise<unknown>) =>
      call.then(
        () => {
          throw new Error('expected the call to fail');
        },
        (error: unknown) => error,
      );

    const notFound = await rejection(
      client.send(new PublishCommand({ TopicArn: unknownTopic, Message: 'x' })),
    );
    expect(notFound).toBeInstanceOf(NotFoundException);
    expect(notFound).toMatchObject({
      message: 'Topic does not exist',
      $metadata: { httpStatusCode: 404 },
    });
    expect(
      await rejection(
        client.send(
          new SubscribeCommand({ TopicArn: unknownTopic, Protocol: 'http', Endpoint: 'http://x' }),
        ),
      ),
    ).toBeInstanceOf(NotFoundException);

    const invalid = [
      () =>
        client.send(
          new SubscribeCommand({ TopicArn: topicArn, Protocol: 'ftp', Endpoint: 'ftp://x' }),
        ),
      () => client.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http' })),
      () =>
        client.send(
          new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: 'https://x' }),
        ),
      () =>
        client.send(new ConfirmSubscriptionCommand({ TopicArn: topicArn, Token: 'f'.repeat(288) })),
      () => client.send(new PublishCommand({ TopicArn: 'not-an-arn', Message: 'x' })),
      () => client.send(new PublishCommand({ TopicArn: topicArn, Message: '' })),
      () =>
        client.send(
          new SetTopicAttributesCommand({
            TopicArn: topicArn,
            AttributeName: 'SignatureVersion',
            AttributeValue: '3',
          }),
        ),
    ];
    const messages: string[] = [];
    for (const call of invalid) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(InvalidParameterException);
      expect(error).toMatchObject({ $metadata: { httpStatusCode: 400 } });
      messages.push((error as Error).message);
    }
    expect(messages).toEqual([
      'Invalid parameter: Amazon SNS does not support this protocol string: ftp',
      'Invalid parameter: Endpoint',
      'Invalid parameter: Endpoint must match the specified protocol',
      'Invalid parameter: Token',
      'Invalid parameter: TopicArn',
      'Invalid parameter: Empty message',
      'Invalid parameter: SignatureVersion',
    ]);

    const unknownAction = await fetch(emulator.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=Frobnicate&Version=2010-03-31',
    });
    expect(unknownAction.status).toBe(400);
    expect(await unknownAction.text()).toMatch(
      new RegExp(
        `^<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation Frobnicate for version 2010-03-31</Message></Error><RequestId>[0-9a-f-]{36}</RequestId></ErrorResponse>$`,
      ),
    );

    const postForm = async (body: string) => {
      const response = await fetch(emulator.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      return [response.status, await response.text()] as const;
    };
    const [oldVersionStatus, oldVersion] = await postForm('Action=Publish&Version=2009-01-01');
    expect(oldVersionStatus).toBe(400);
    expect(oldVersion).toContain(
      '<Message>Could not find operation Publish for version 2009-01-01',
    );
    const [noActionStatus, noAction] = await postForm('Version=2010-03-31');
    expect(noActionStatus).toBe(400);
    expect(noAction).toContain('<Code>MissingAction</Code>');
    const [targetArnStatus, targetArn] = await postForm(
      `Action=Publish&Version=2010-03-31&TargetArn=${topicArn}&Message=hi`,
    );
    expect(targetArnStatus).toBe(200);
    expect(targetArn).toMatch(
      /<PublishResult><MessageId>[0-9a-f-]{36}<\/MessageId><\/PublishResult>/,
    );

    const wrongToken = await fetch(
      `${emulator.url}/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=abc`,
    );
    expect(wrongToken.status).toBe(400);
    expect(await wrongToken.text()).toContain(
      '<Code>InvalidParameter</Code><Message>Invalid parameter: Token</Message>',
    );
  });

  it('serves the signing certificate, a self-signed RSA-2048 X.509 certificate', async () => {
    const emulator = await startEmulator();
    const response = await fetch(`${emulator.url}${emulator.service.certificatePath}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
    const pem = await response.text();
    expect(pem).toBe(emulator.service.certificatePem);
    const certificate = new X509Certificate(pem);
    expect(certificate.subject).toContain('CN=sns.amazonaws.com');
    expect(certificate.publicKey.asymmetricKeyType).toBe('rsa');
    expect(certificate.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });
});

// --- Signature verification, independent of the emulator's signer ------------------------------

const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
const CONFIRMATION_KEYS = [
  'Message',
  'MessageId',
  'SubscribeURL',
  'Timestamp',
  'Token',
  'TopicArn',
  'Type',
];

const HASH_OF_SIGNATURE_VERSION: Record<string, string | undefined> = {
  '1': 'sha1',
  '2': 'sha256',
};

/** Written from https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html */
function verifiesPerSpec(envelope: ReceivedEnvelope, certificatePem: string): boolean {
  const fields = envelope as unknown as Record<string, unknown>;
  const keys = envelope.Type === 'Notification' ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  const stringToSign = keys
    .filter((key) => typeof fields[key] === 'string')
    .map((key) => `${key}\n${fields[key] as string}\n`)
    .join('');
  const hash = HASH_OF_SIGNATURE_VERSION[envelope.SignatureVersion];
  if (hash === undefined) return false;
  return verify(
    hash,
    Buffer.from(stringToSign, 'utf8'),
    new X509Certificate(certificatePem).publicKey,
    Buffer.from(envelope.Signature, 'base64'),
  );
}

interface SnsMessageValidator {
  validate(message: object, callback: (error: Error | null) => void): void;
}
const MessageValidator = jest.requireActual<new () => SnsMessageValidator>('sns-validator');

/** sns-validator trusts only https on sns.<region>.amazonaws.com; SigningCertURL is not signed. */
function asAmazonHosted(envelope: ReceivedEnvelope): ReceivedEnvelope {
  const { pathname } = new URL(envelope.SigningCertURL);
  return { ...envelope, SigningCertURL: `https://sns.${REGION}.amazonaws.com${pathname}` };
}

function snsValidatorVerdict(envelope: ReceivedEnvelope): Promise<Error | null> {
  return new Promise((resolve) =>
    new MessageValidator().validate(asAmazonHosted(envelope), (error) => resolve(error)),
  );
}

/** Answers sns-validator's https.get of the certificate with what the emulator serves. */
function serveCertificatesFrom(emulator: Emulator) {
  type Get = (url: string, callback: (response: IncomingMessage) => void) => http.ClientRequest;
  const get: Get = (url, callback) => {
    const { hostname, pathname } = new URL(url);
    if (hostname !== `sns.${REGION}.amazonaws.com`) throw new Error(`unexpected fetch of ${url}`);
    return http.get(`${emulator.url}${pathname}`, callback);
  };
  return jest.spyOn(https, 'get').mockImplementation(get as unknown as typeof https.get);
}

describe.each(['1', '2'] as const)('SnsService signatures, SignatureVersion %s', (version) => {
  it('signs every message so that sns-validator and a spec-based verifier accept it', async () => {
    const emulator = await startEmulator();
    const receiver = await startReceiver();
    const certificateFetch = serveCertificatesFrom(emulator);
    const { client, service } = emulator;
    const topicArn = await createTopic(emulator);
    if (version === '2') {
      await client.send(
        new SetTopicAttributesCommand({
          TopicArn: topicArn,
          AttributeName: 'SignatureVersion',
          AttributeValue: '2',
        }),
      );
    }
    const { Attributes } = await client.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    expect(Attributes).toMatchObject({ TopicArn: topicArn, SignatureVersion: version });

    await confirmedSubscription(emulator, receiver, topicArn, '/a');
    await client.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: 'With subject',
        Message: 'Ünïcödé, "quotes", new\nlines',
        MessageAttributes: { ContactId: { DataType: 'String', StringValue: 'c-1' } },
      }),
    );
    service.publish(topicArn, 'no subject', {});
    await service.idle();
    const unsubscribeUrl = receiver.ofType('Notification')[0].envelope.UnsubscribeURL!;
    expect((await fetch(unsubscribeUrl)).status).toBe(200);
    await service.idle();

    const envelopes = receiver.received.map((request) => request.envelope);
    expect(envelopes.map((envelope) => envelope.Type)).toEqual([
      'SubscriptionConfirmation',
      'Notification',
      'Notification',
      'UnsubscribeConfirmation',
    ]);
    const certificatePem = await (await fetch(envelopes[0].SigningCertURL)).text();
    for (const envelope of envelopes) {
      expect(envelope.SignatureVersion).toBe(version);
      expect(verifiesPerSpec(envelope, certificatePem)).toBe(true);
      // sns-validator 0.3.5 leaves Token out of an UnsubscribeConfirmation's string to sign,
      // against the AWS documentation that SNS follows; only the spec-based verifier checks those.
      if (envelope.Type !== 'UnsubscribeConfirmation') {
        expect(await snsValidatorVerdict(envelope)).toBeNull();
      }
    }
    expect(certificateFetch).toHaveBeenCalled();

    const otherVersion = version === '1' ? '2' : '1';
    for (const envelope of envelopes.slice(0, 2)) {
      const tampered: ReceivedEnvelope[] = [
        { ...envelope, Message: `${envelope.Message} ` },
        { ...envelope, MessageId: '00000000-0000-4000-8000-000000000000' },
        { ...envelope, Timestamp: new Date(0).toISOString() },
        {
          ...envelope,
          Type: envelope.Type === 'Notification' ? 'SubscriptionConfirmation' : 'Notification',
        },
        { ...envelope, SignatureVersion: otherVersion },
      ];
      for (const forged of tampered) {
        expect(verifiesPerSpec(forged, certificatePem)).toBe(false);
        expect((await snsValidatorVerdict(forged))?.message).toMatch(
          /^(The message signature is invalid\.|Message missing required keys\.)$/,
        );
      }
    }
  });
});

// --- Delivery retries and faults ------------------------------------------------------------------

const notificationAttempts = (emulator: Emulator) =>
  emulator.service.deliveries().filter((record) => record.type === 'Notification');

describe('SnsService deliveries', () => {
  /** A receiver that answers Notifications by `answer(n)` for the n-th one, and 200 to the rest. */
  async function notificationsAnswered(answer: (n: number) => number | 'hang') {
    return startReceiver((request, received) =>
      request.envelope.Type === 'Notification'
        ? answer(received.filter((other) => other.envelope.Type === 'Notification').length)
        : 200,
    );
  }

  it('retries a failed delivery with the same MessageId and body until the endpoint answers 2xx', async () => {
    const emulator = await startEmulator({
      retry: { attempts: 5, baseDelayMs: 5, maxDelayMs: 20 },
    });
    const receiver = await notificationsAnswered((n) => (n <= 2 ? 500 : 200));
    const topicArn = await createTopic(emulator);
    const subscriptionArn = await confirmedSubscription(emulator, receiver, topicArn, '/a');

    const messageId = emulator.service.publish(topicArn, 'hello', {});
    await emulator.service.idle();

    expect(notificationAttempts(emulator)).toEqual(
      [
        { attempt: 1, outcome: 'retrying', statusCode: 500 },
        { attempt: 2, outcome: 'retrying', statusCode: 500 },
        { attempt: 3, outcome: 'delivered', statusCode: 200 },
      ].map((expected) => ({
        ...expected,
        messageId,
        subscriptionArn,
        endpoint: `${receiver.url}/a`,
        type: 'Notification',
        copy: 1,
        at: expect.stringMatching(ISO_MILLIS),
      })),
    );
    const posts = receiver.ofType('Notification');
    expect(posts.map((post) => post.headers['x-amz-sns-message-id'])).toEqual([
      messageId,
      messageId,
      messageId,
    ]);
    expect(new Set(posts.map((post) => post.body)).size).toBe(1);
  });

  it('gives up after retry.attempts failed attempts', async () => {
    const emulator = await startEmulator({
      retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 4 },
    });
    const receiver = await notificationsAnswered(() => 503);
    const topicArn = await createTopic(emulator);
    await confirmedSubscription(emulator, receiver, topicArn, '/a');

    emulator.service.publish(topicArn, 'hello', {});
    await emulator.service.idle();

    expect(
      notificationAttempts(emulator).map(({ attempt, outcome }) => [attempt, outcome]),
    ).toEqual([
      [1, 'retrying'],
      [2, 'retrying'],
      [3, 'retrying'],
      [4, 'gave-up'],
    ]);
    expect(receiver.ofType('Notification')).toHaveLength(4);
  });

  it('takes a 4xx answer as delivered, as SNS does, and retries timeouts and refused connections', async () => {
    const emulator = await startEmulator({ deliveryTimeoutMs: 100 });
    const receiver = await notificationsAnswered((n) => (n === 1 ? 403 : n === 2 ? 'hang' : 200));
    const topicArn = await createTopic(emulator);
    await confirmedSubscription(emulator, receiver, topicArn, '/a');

    emulator.service.publish(topicArn, 'rejected', {});
    await emulator.service.idle();
    emulator.service.publish(topicArn, 'slow', {});
    await emulator.service.idle();
    expect(notificationAttempts(emulator)).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'delivered', statusCode: 403 }),
      expect.objectContaining({
        attempt: 1,
        outcome: 'retrying',
        error: 'no response within 100 ms',
      }),
      expect.objectContaining({ attempt: 2, outcome: 'delivered', statusCode: 200 }),
    ]);

    const gone = await startReceiver();
    const goneArn = await confirmedSubscription(emulator, gone, topicArn, '/gone');
    await gone.close();
    emulator.service.publish(topicArn, 'nobody home', {});
    await emulator.service.idle();
    const refused = notificationAttempts(emulator).filter((r) => r.subscriptionArn === goneArn);
    expect(refused.map(({ attempt, outcome }) => [attempt, outcome])).toEqual([
      [1, 'retrying'],
      [2, 'retrying'],
      [3, 'gave-up'],
    ]);
    expect(refused[0].error).toMatch(/ECONNREFUSED/);
  });

  it('close() cancels the pending retries', async () => {
    let firstAttemptRecorded = () => {};
    const firstAttempt = new Promise<void>((resolve) => (firstAttemptRecorded = resolve));
    const emulator = await startEmulator({
      retry: { attempts: 2, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      onDelivery: (record) => {
        if (record.type === 'Notification') firstAttemptRecorded();
      },
    });
    const receiver = await notificationsAnswered(() => 500);
    const topicArn = await createTopic(emulator);
    await confirmedSubscription(emulator, receiver, topicArn, '/a');

    emulator.service.publish(topicArn, 'hello', {});
    await firstAttempt;
    emulator.service.close();
    await emulator.service.idle(); // would wait a minute for the retry without close()
    expect(notificationAttempts(emulator)).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'retrying', statusCode: 500 }),
    ]);
    expect(receiver.ofType('Notification')).toHaveLength(1);
  });

  it('close() aborts the requests in flight', async () => {
    let firstPostArrived = () => {};
    const firstPost = new Promise<void>((resolve) => (firstPostArrived = resolve));
    const emulator = await startEmulator();
    const receiver = await notificationsAnswered(() => {
      firstPostArrived();
      return 'hang';
    });
    const topicArn = await createTopic(emulator);
    await confirmedSubscription(emulator, receiver, topicArn, '/a');

    emulator.service.publish(topicArn, 'hello', {});
    await firstPost;
    emulator.service.close();
    await emulator.service.idle(); // would wait for the 5 s timeout without close()
    expect(notificationAttempts(emulator)).toEqual([]);
  });

  /** Publishes 20 messages with dropRate 0.5 and answers the indexes of the dropped ones. */
  async function droppedWithSeed(seed: number): Promise<number[]> {
    const emulator = await startEmulator({
      random: new SeededRandom(seed),
      faults: () => ({ dropRate: 0.5, duplicateRate: 0 }),
    });
    const receiver = await startReceiver();
    const topicArn = await createTopic(emulator);
    await confirmedSubscription(emulator, receiver, topicArn, '/a');
    const messageIds = Array.from({ length: 20 }, (_, i) =>
      emulator.service.publish(topicArn, `message ${i}`, {}),
    );
    await emulator.service.idle();

    const dropped = notificationAttempts(emulator)
      .filter((record) => record.outcome === 'dropped')
      .map((record) => messageIds.indexOf(record.messageId));
    const arrived = receiver.ofType('Notification').map((request) => request.envelope.Message);
    const expectedArrivals = messageIds
      .map((_, i) => i)
      .filter((i) => !dropped.includes(i))
      .map((i) => `message ${i}`);
    expect(arrived.sort()).toEqual(expectedArrivals.sort());
    return dropped.sort((a, b) => a - b);
  }

  it('drops the same messages for the same seed, and others for another seed', async () => {
    const first = await droppedWithSeed(7);
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(20);
    expect(await droppedWithSeed(7)).toEqual(first);
    expect(await droppedWithSeed(8)).not.toEqual(first);
  });

  it('with duplicateRate 1, delivers every message twice with the same MessageId and body', async () => {
    const emulator = await startEmulator({
      faults: () => ({ dropRate: 0, duplicateRate: 1 }),
    });
    const receiver = await startReceiver();
    const topicArn = await createTopic(emulator);
    await confirmedSubscription(emulator, receiver, topicArn, '/a');
    const messageIds = Array.from({ length: 5 }, (_, i) =>
      emulator.service.publish(topicArn, `message ${i}`, {}),
    );
    await emulator.service.idle();

    const posts = receiver.ofType('Notification');
    expect(posts).toHaveLength(10);
    for (const messageId of messageIds) {
      const copies = posts.filter((post) => post.envelope.MessageId === messageId);
      expect(copies).toHaveLength(2);
      expect(copies[0].body).toBe(copies[1].body);
    }
    for (const messageId of messageIds) {
      const records = notificationAttempts(emulator).filter(
        (record) => record.messageId === messageId,
      );
      expect(records.map((record) => [record.copy, record.outcome]).sort()).toEqual([
        [1, 'delivered'],
        [2, 'delivered'],
      ]);
    }
  });
});
