import {
  ConnectClient,
  StartChatContactCommand,
  StartContactStreamingCommand,
} from '@aws-sdk/client-connect';
import {
  ConnectParticipantClient,
  CreateParticipantConnectionCommand,
  SendMessageCommand,
} from '@aws-sdk/client-connectparticipant';
import { ConfirmSubscriptionCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { createVerify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectEmulator, EMULATOR_DEFAULTS } from './emulator';
import { EmulatorClient } from './emulator-client';

interface Envelope {
  [field: string]: unknown;
  Type: string;
  Message: string;
  MessageId: string;
  Token?: string;
  Signature: string;
  SignatureVersion: string;
  SigningCertURL: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

interface Received {
  headers: IncomingHttpHeaders;
  envelope: Envelope;
}

/** A subscriber endpoint that records what SNS posts to it. */
async function startReceiver(): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, envelope: JSON.parse(body) as Envelope });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sns`,
    received,
    server,
  };
}

/** Checks an envelope's signature the way a subscriber must, from the published SNS format. */
async function signatureHolds(envelope: Envelope): Promise<boolean> {
  const fields =
    envelope.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const canonical = fields
    .filter((field) => envelope[field] !== undefined)
    .map((field) => `${field}\n${String(envelope[field])}\n`)
    .join('');
  const certificate = await (await fetch(envelope.SigningCertURL)).text();
  const verifier = createVerify(envelope.SignatureVersion === '2' ? 'RSA-SHA256' : 'RSA-SHA1');
  verifier.update(canonical, 'utf8');
  return verifier.verify(certificate, envelope.Signature, 'base64');
}

describe('message streaming from the emulator to an SNS HTTP subscriber', () => {
  let emulator: ConnectEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const saved = { ...process.env };

  beforeEach(async () => {
    emulator = await ConnectEmulator.start();
    receiver = await startReceiver();
    // The SDK clients find the emulator the way the bridge does: through AWS_ENDPOINT_URL_*.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_CONNECT: emulator.url,
      AWS_ENDPOINT_URL_CONNECTPARTICIPANT: emulator.url,
      AWS_ENDPOINT_URL_SNS: emulator.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
    });
  });

  afterEach(async () => {
    process.env = { ...saved };
    await emulator.close();
    await new Promise((resolve) => receiver.server.close(resolve));
  });

  async function subscribe({ confirm } = { confirm: true }): Promise<void> {
    const sns = new SNSClient({ maxAttempts: 1 });
    await sns.send(
      new SubscribeCommand({
        TopicArn: emulator.topicArn,
        Protocol: 'http',
        Endpoint: receiver.url,
      }),
    );
    await emulator.sns.idle();
    if (!confirm) return;
    const confirmation = receiver.received.find(
      (r) => r.envelope.Type === 'SubscriptionConfirmation',
    );
    if (!confirmation) throw new Error('no SubscriptionConfirmation arrived');
    await sns.send(
      new ConfirmSubscriptionCommand({
        TopicArn: emulator.topicArn,
        Token: confirmation.envelope.Token,
      }),
    );
    receiver.received.length = 0;
  }

  async function openChat() {
    const connect = new ConnectClient({ maxAttempts: 1 });
    const participant = new ConnectParticipantClient({ maxAttempts: 1 });
    const chat = await connect.send(
      new StartChatContactCommand({
        InstanceId: EMULATOR_DEFAULTS.instanceId,
        ContactFlowId: EMULATOR_DEFAULTS.contactFlowId,
        ParticipantDetails: { DisplayName: 'Ada' },
      }),
    );
    await connect.send(
      new StartContactStreamingCommand({
        InstanceId: EMULATOR_DEFAULTS.instanceId,
        ContactId: chat.ContactId,
        ChatStreamingConfiguration: { StreamingEndpointArn: emulator.topicArn },
      }),
    );
    const connection = await participant.send(
      new CreateParticipantConnectionCommand({
        ParticipantToken: chat.ParticipantToken,
        ConnectParticipant: true,
        Type: ['CONNECTION_CREDENTIALS'],
      }),
    );
    const say = (Content: string) =>
      participant.send(
        new SendMessageCommand({
          ConnectionToken: connection.ConnectionCredentials!.ConnectionToken,
          ContentType: 'text/plain',
          Content,
        }),
      );
    return { contactId: chat.ContactId!, say };
  }

  const notifications = () =>
    receiver.received
      .filter((r) => r.envelope.Type === 'Notification')
      .map((r) => ({
        headers: r.headers,
        envelope: r.envelope,
        body: JSON.parse(r.envelope.Message) as Record<string, unknown>,
        attributes: Object.fromEntries(
          Object.entries(r.envelope.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            value.Value,
          ]),
        ),
      }));

  it('delivers every chat item as a signed SNS notification in the Connect stream format', async () => {
    await subscribe();
    const chat = await openChat();
    const agent = new EmulatorClient(emulator.url);
    await chat.say('hello from the customer');
    await agent.agentJoins(chat.contactId, 'Grace');
    await agent.agentSays(chat.contactId, 'hello from the agent', { visibility: 'CUSTOMER' });
    await agent.agentSays(chat.contactId, 'a note for agents', { visibility: 'AGENT' });
    await agent.endChat(chat.contactId);
    await emulator.sns.idle();

    const delivered = notifications().sort((a, b) =>
      String(a.body.AbsoluteTime).localeCompare(String(b.body.AbsoluteTime)),
    );
    const summary = delivered.map((n) => [
      n.attributes.Type,
      n.attributes.ContentType,
      n.attributes.ParticipantRole,
      n.attributes.MessageVisibility,
      n.body.Content,
    ]);
    expect(summary).toEqual(
      expect.arrayContaining([
        [
          'EVENT',
          'application/vnd.amazonaws.connect.event.participant.joined',
          'CUSTOMER',
          'ALL',
          undefined,
        ],
        ['MESSAGE', 'text/plain', 'CUSTOMER', 'ALL', 'hello from the customer'],
        [
          'EVENT',
          'application/vnd.amazonaws.connect.event.participant.joined',
          'AGENT',
          'ALL',
          undefined,
        ],
        ['MESSAGE', 'text/plain', 'AGENT', 'CUSTOMER', 'hello from the agent'],
        ['MESSAGE', 'text/plain', 'AGENT', 'AGENT', 'a note for agents'],
        [
          'EVENT',
          'application/vnd.amazonaws.connect.event.chat.ended',
          undefined,
          'ALL',
          undefined,
        ],
      ]),
    );
    expect(delivered).toHaveLength(6);

    const message = delivered.find((n) => n.body.Content === 'hello from the agent')!;
    expect(message.headers['x-amz-sns-message-type']).toBe('Notification');
    expect(message.headers['x-amz-sns-topic-arn']).toBe(emulator.topicArn);
    expect(message.headers['x-amz-sns-message-id']).toBe(message.envelope.MessageId);
    expect(message.headers['content-type']).toMatch(/^text\/plain/);
    expect(message.attributes).toMatchObject({
      InitialContactId: chat.contactId,
      ContactId: chat.contactId,
      InstanceId: EMULATOR_DEFAULTS.instanceId,
      AccountId: EMULATOR_DEFAULTS.accountId,
    });
    expect(message.body).toMatchObject({
      Type: 'MESSAGE',
      ContentType: 'text/plain',
      ParticipantRole: 'AGENT',
      DisplayName: 'Grace',
      InitialContactId: chat.contactId,
      ContactId: chat.contactId,
    });
    expect(message.body).not.toHaveProperty('visibility');
    for (const notification of delivered) {
      expect(await signatureHolds(notification.envelope)).toBe(true);
    }
    expect(await signatureHolds({ ...message.envelope, Message: '{"tampered":true}' })).toBe(false);
  });

  it('carries the new ContactId after a transfer, with the same InitialContactId', async () => {
    await subscribe();
    const chat = await openChat();
    const agent = new EmulatorClient(emulator.url);
    await agent.agentJoins(chat.contactId);
    const { contactId } = await agent.transfer(chat.contactId);
    await agent.agentJoins(contactId, 'Second');
    await agent.agentSays(contactId, 'after the transfer');
    await emulator.sns.idle();
    const after = notifications().find((n) => n.body.Content === 'after the transfer')!;
    expect(after.attributes).toMatchObject({
      InitialContactId: chat.contactId,
      ContactId: contactId,
    });
    expect(
      notifications().some((n) => n.attributes.ContentType?.endsWith('transfer.succeeded')),
    ).toBe(true);
  });

  it('streams nothing to a subscriber that has not confirmed', async () => {
    await subscribe({ confirm: false });
    const chat = await openChat();
    await chat.say('nobody hears this');
    await emulator.sns.idle();
    expect(notifications()).toEqual([]);
  });

  it('duplicates deliveries with the same MessageId when told to', async () => {
    await subscribe();
    emulator.faults.configure({ seed: 3, operations: {}, sns: { dropRate: 0, duplicateRate: 1 } });
    const chat = await openChat();
    await chat.say('twice');
    await emulator.sns.idle();
    const copies = notifications().filter((n) => n.body.Content === 'twice');
    expect(copies).toHaveLength(2);
    expect(copies[0].envelope.MessageId).toBe(copies[1].envelope.MessageId);
  });

  it('drops the same deliveries again when the same seed is configured again', async () => {
    await subscribe();
    const chat = await openChat();
    const deliveredPattern = async (round: string) => {
      emulator.faults.configure({
        seed: 11,
        operations: {},
        sns: { dropRate: 0.5, duplicateRate: 0 },
      });
      for (let i = 0; i < 12; i += 1) await chat.say(`${round}-${i}`);
      await emulator.sns.idle();
      const contents = new Set(notifications().map((n) => n.body.Content));
      return Array.from({ length: 12 }, (_, i) => contents.has(`${round}-${i}`));
    };
    const first = await deliveredPattern('a');
    const second = await deliveredPattern('b');
    expect(second).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
  });
});
