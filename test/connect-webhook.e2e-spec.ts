import { Redis } from 'ioredis';
import { BridgeProcess } from '../src/sandbox/bridge-process';
import { ConnectEmulator } from '../src/sandbox/emulator';
import { eventually } from '../src/sandbox/eventually';
import { sendGenericMessage } from '../src/sandbox/generic-customer';
import { FakeGenericApp } from '../src/sandbox/providers';
import { RedisServer } from '../src/sandbox/redis-server';
import type { ReceivedSnsEnvelope } from './support/sns';
import { type SnsCapture, startSnsCapture, startStreamingBridge } from './support/streaming';

const SECRET = 'generic-webhook-secret-for-tests';
const BUSINESS = '+15559990000';

/**
 * `POST /webhooks/connect` over HTTP against the built bridge, with a redis-server of its own so
 * that Redis can be taken away. A second subscriber of the streaming topic keeps every envelope
 * SNS sends, signed as sent, to be posted again by hand.
 */
describe('POST /webhooks/connect', () => {
  let emulator: ConnectEmulator;
  let redis: RedisServer;
  let app: FakeGenericApp;
  let receiver: SnsCapture;
  let bridge: BridgeProcess;
  let captured: ReceivedSnsEnvelope[];

  beforeAll(async () => {
    emulator = await ConnectEmulator.start();
    redis = await RedisServer.start();
    app = await FakeGenericApp.start({ secret: SECRET });
    receiver = await startSnsCapture(emulator);
    captured = receiver.envelopes;
    bridge = await startStreamingBridge(emulator, {
      REDIS_URL: redis.url,
      GENERIC_WEBHOOK_SECRET: SECRET,
      GENERIC_CALLBACK_URL: app.callbackUrl,
    });
  });

  afterAll(async () => {
    await bridge?.stop();
    await emulator?.close();
    await app?.close();
    await receiver?.close();
    await redis?.destroy();
  });

  const endpoint = () => `${bridge.url}/webhooks/connect`;

  const post = (body: unknown, messageType?: string) =>
    fetch(endpoint(), {
      method: 'POST',
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        ...(messageType ? { 'x-amz-sns-message-type': messageType } : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  /** The envelope our own subscriber got for `predicate`, once SNS has sent everything. */
  async function capturedEnvelope(predicate: (envelope: ReceivedSnsEnvelope) => boolean) {
    await emulator.sns.idle();
    const envelope = captured.find(predicate);
    if (!envelope) throw new Error('our subscriber did not receive the expected envelope');
    return envelope;
  }

  it('refuses a body that is not an SNS envelope with 400', async () => {
    const notAnEnvelope = await post({ hello: 'world' }, 'Notification');
    expect(notAnEnvelope.status).toBe(400);
    expect(await notAnEnvelope.json()).toMatchObject({ error: 'malformed-envelope' });

    const notJson = await post('this is not JSON', 'Notification');
    expect(notJson.status).toBe(400);

    const unsigned = await post({
      Type: 'Notification',
      MessageId: 'm-1',
      TopicArn: emulator.topicArn,
      Message: '{}',
      Timestamp: new Date().toISOString(),
      SignatureVersion: '1',
      SigningCertURL: `${emulator.url}${emulator.sns.certificatePath}`,
      UnsubscribeURL: `${emulator.url}/unsubscribe`,
    });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({
      error: 'malformed-envelope',
      message: expect.stringContaining('Signature'),
    });
  });

  it('refuses a genuinely signed message whose x-amz-sns-message-type contradicts its Type with 400', async () => {
    const confirmation = await capturedEnvelope(
      (envelope) => envelope.Type === 'SubscriptionConfirmation',
    );
    const asNotification = await post(confirmation, 'Notification');
    expect(asNotification.status).toBe(400);
    // The signature was good: only the header was wrong.
    expect(await asNotification.json()).toMatchObject({
      message: 'x-amz-sns-message-type says Notification, the body SubscriptionConfirmation',
    });

    const messageId = emulator.sns.publish(emulator.topicArn, 'not a stream item');
    const notification = await capturedEnvelope((envelope) => envelope.MessageId === messageId);
    const asConfirmation = await post(notification, 'SubscriptionConfirmation');
    expect(asConfirmation.status).toBe(400);
    expect(await asConfirmation.json()).toMatchObject({
      message: 'x-amz-sns-message-type says SubscriptionConfirmation, the body Notification',
    });

    // The same body with the header that matches it is taken (and read as no stream item).
    const matching = await post(notification, 'Notification');
    expect(matching.status).toBe(200);
    expect(await matching.json()).toEqual({ type: 'Notification', outcome: 'invalid' });
  });

  it('answers 503 while its Redis is down, then takes the same notification and sends it on', async () => {
    const customer = '+15550003001';
    const res = await sendGenericMessage(bridge.url, SECRET, {
      messageId: 'outage-1',
      from: customer,
      to: BUSINESS,
      text: 'Is anyone there?',
    });
    expect(res.status).toBe(200);
    const contactOf = () =>
      emulator.center.list().find((contact) => contact.attributes.customerAddress === customer);
    await eventually(
      'the customer message at Connect',
      () => contactOf()?.transcript.some((item) => item.Content === 'Is anyone there?') ?? false,
      20_000,
    );
    const contactId = contactOf()!.contactId;
    emulator.center.agentJoin(contactId, 'Sam');
    await emulator.sns.idle();

    // The inbound job has settled; keep what Redis holds so that it comes back after the restart
    // (the private redis-server starts empty otherwise).
    const client = new Redis(redis.url);
    await eventually(
      'the customer message settled',
      async () =>
        (await client.hget(`{csb}:relay:in:${encodeURIComponent('generic:app/outage-1')}`, 's')) ===
        'delivered',
      10_000,
    );
    expect(await client.save()).toBe('OK');
    await client.quit();
    await redis.stop();

    const item = emulator.center.agentMessage(contactId, { content: 'Sorry for the wait.' });
    const envelope = await capturedEnvelope((candidate) => candidate.Message.includes(item.Id));
    // SNS's own attempts to the bridge all met the outage, and SNS gave up.
    const attempts = emulator.sns
      .deliveries()
      .filter((d) => d.endpoint === endpoint() && d.messageId === envelope.MessageId);
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.every((attempt) => attempt.statusCode === 503)).toBe(true);
    expect(attempts.at(-1)?.outcome).toBe('gave-up');

    const during = await post(envelope, 'Notification');
    expect(during.status).toBe(503);
    expect(await during.json()).toMatchObject({
      message: 'could not store a stream item; retry later',
    });
    expect(app.messages().filter((m) => m.to === customer)).toEqual([]);

    await redis.restart();
    await bridge.answers('/health/ready', 20_000);
    const after = await post(envelope, 'Notification');
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ type: 'Notification', outcome: 'queued' });
    await eventually(
      'the agent message at the customer',
      () => app.messages().some((m) => m.to === customer),
      20_000,
    );
    expect(app.messages().filter((m) => m.to === customer)).toEqual([
      expect.objectContaining({
        channel: 'app',
        from: BUSINESS,
        to: customer,
        text: 'Sorry for the wait.',
      }),
    ]);

    // Delivered again (as SNS would), it is recognised and not sent twice.
    const again = await post(envelope, 'Notification');
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ type: 'Notification', outcome: 'duplicate' });
  });
});
