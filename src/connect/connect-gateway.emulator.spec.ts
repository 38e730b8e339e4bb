import { Metrics } from '../ops/metrics';
import { createServer, type AddressInfo } from 'node:net';
import { ConnectClient } from '@aws-sdk/client-connect';
import { ConnectParticipantClient } from '@aws-sdk/client-connectparticipant';
import { AppConfig } from '../config';
import { ConnectEmulator, EMULATOR_DEFAULTS, EmulatorClient } from '../sandbox/emulator';
import {
  ConnectAccessDeniedError,
  ConnectGateway,
  ConnectRejectedError,
  ConnectRetryableError,
} from './index';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const DAY_MS = 24 * 60 * 60_000;

describe('ConnectGateway against the Connect emulator', () => {
  let emulator: ConnectEmulator;
  let agent: EmulatorClient;
  let connectClient: ConnectClient;
  let participantClient: ConnectParticipantClient;
  let gateway: ConnectGateway;

  beforeEach(async () => {
    emulator = await ConnectEmulator.start();
    agent = new EmulatorClient(emulator.url);
    const config = AppConfig.fromEnv({
      AWS_REGION: emulator.region,
      CONNECT_INSTANCE_ID: emulator.instanceId,
      CONNECT_CONTACT_FLOW_ID: EMULATOR_DEFAULTS.contactFlowId,
      CONNECT_STREAMING_TOPIC_ARN: emulator.topicArn,
    });
    const client = { region: emulator.region, endpoint: emulator.url, credentials, maxAttempts: 1 };
    connectClient = new ConnectClient(client);
    participantClient = new ConnectParticipantClient(client);
    gateway = new ConnectGateway(config, connectClient, participantClient, new Metrics());
  });

  afterEach(async () => {
    connectClient.destroy();
    participantClient.destroy();
    await emulator.close();
  });

  const transcriptOf = (contactId: string) => emulator.center.findContact(contactId).transcript;

  async function openChat(clientToken = 'conv-1') {
    const chat = await gateway.startChat({
      displayName: 'Customer',
      attributes: { channel: 'sms' },
      clientToken: `start:${clientToken}`,
    });
    await gateway.startStreaming(chat.contactId, `stream:${clientToken}`);
    const connection = await gateway.connectParticipant(chat.participantToken);
    return { ...chat, ...connection };
  }

  const say = (connectionToken: string, content: string, clientToken: string) =>
    gateway.sendMessage(connectionToken, { content, contentType: 'text/plain', clientToken });

  it('runs the start order and delivers a message into the transcript', async () => {
    const before = Date.now();
    const chat = await gateway.startChat({
      displayName: 'Customer',
      attributes: { channel: 'sms' },
      clientToken: 'start:conv-1',
    });
    const streaming = await gateway.startStreaming(chat.contactId, 'stream:conv-1');
    const connection = await gateway.connectParticipant(chat.participantToken);
    const sent = await say(connection.connectionToken, 'hello', 'SM1');

    const contact = emulator.center.findContact(chat.contactId);
    expect(contact.attributes).toEqual({ channel: 'sms' });
    expect([...contact.streaming]).toEqual([[streaming.streamingId, emulator.topicArn]]);
    expect(connection.expiresAt).toBeGreaterThanOrEqual(before + DAY_MS);
    expect(connection.expiresAt).toBeLessThanOrEqual(Date.now() + DAY_MS);
    const messages = transcriptOf(chat.contactId).filter((item) => item.Type === 'MESSAGE');
    expect(messages).toEqual([
      expect.objectContaining({
        Id: sent.messageId,
        AbsoluteTime: sent.absoluteTime,
        Content: 'hello',
        ParticipantId: chat.participantId,
        ParticipantRole: 'CUSTOMER',
      }),
    ]);
  });

  it('continues an ended chat as a persistent chat', async () => {
    const first = await openChat('conv-1');
    await agent.endChat(first.contactId);

    const second = await gateway.startChat({
      displayName: 'Customer',
      attributes: {},
      clientToken: 'start:conv-1:2',
      persistentFromContactId: first.contactId,
    });

    expect(second.contactId).not.toBe(first.contactId);
    expect(emulator.center.findContact(second.contactId).persistentChat).toEqual({
      RehydrationType: 'ENTIRE_PAST_SESSION',
      SourceContactId: first.contactId,
    });
  });

  it('delivers a message sent twice with the same ClientToken once', async () => {
    const chat = await openChat();

    const first = await say(chat.connectionToken, 'only once', 'SM-dup');
    const second = await say(chat.connectionToken, 'only once', 'SM-dup');

    expect(second.messageId).toBe(first.messageId);
    const copies = transcriptOf(chat.contactId).filter((item) => item.Content === 'only once');
    expect(copies).toHaveLength(1);
  });

  it('uploads an attachment end to end and can fetch it back', async () => {
    const chat = await openChat();
    const content = Buffer.from('%PDF-1.7 not really a pdf');

    const { attachmentId } = await gateway.uploadAttachment(chat.connectionToken, {
      name: 'invoice.pdf',
      contentType: 'application/pdf',
      content,
      clientToken: 'MM1',
    });

    const attachments = transcriptOf(chat.contactId).filter((item) => item.Type === 'ATTACHMENT');
    expect(attachments).toEqual([
      expect.objectContaining({
        ParticipantRole: 'CUSTOMER',
        Attachments: [
          expect.objectContaining({
            AttachmentId: attachmentId,
            AttachmentName: 'invoice.pdf',
            ContentType: 'application/pdf',
          }),
        ],
      }),
    ]);
    const link = await gateway.attachmentUrl(chat.connectionToken, attachmentId);
    expect(link.expiresAt).toBeGreaterThan(Date.now());
    const download = await fetch(link.url);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(content);
  });

  it('reports expired credentials as access denied, and connectParticipant refreshes them', async () => {
    const chat = await openChat();
    await agent.expireCredentials(chat.contactId);

    const refused = await say(chat.connectionToken, 'after expiry', 'SM2').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectAccessDeniedError);
    expect(refused).toMatchObject({ operation: 'SendMessage', httpStatus: 403 });

    const refreshed = await gateway.connectParticipant(chat.participantToken);
    expect(refreshed.connectionToken).not.toBe(chat.connectionToken);
    await say(refreshed.connectionToken, 'after refresh', 'SM2');
    expect(transcriptOf(chat.contactId).map((item) => item.Content)).toContain('after refresh');
  });

  it('refuses to reconnect a participant whose chat has ended', async () => {
    const chat = await openChat();
    await agent.endChat(chat.contactId);

    await expect(gateway.connectParticipant(chat.participantToken)).rejects.toMatchObject({
      constructor: ConnectAccessDeniedError,
      operation: 'CreateParticipantConnection',
      errorType: 'AccessDeniedException',
    });
  });

  it('reports throttling as retryable', async () => {
    const chat = await openChat();
    emulator.faults.configure({
      seed: 1,
      operations: { SendMessage: { throttleRate: 1 } },
      sns: { dropRate: 0, duplicateRate: 0 },
    });

    await expect(say(chat.connectionToken, 'throttled', 'SM3')).rejects.toMatchObject({
      constructor: ConnectRetryableError,
      operation: 'SendMessage',
      errorType: 'ThrottlingException',
      httpStatus: 429,
    });
    expect(transcriptOf(chat.contactId).map((item) => item.Content)).not.toContain('throttled');
  });

  it('rejects a text over 1024 characters and takes one of exactly 1024', async () => {
    const chat = await openChat();

    const error = await say(chat.connectionToken, 'x'.repeat(1025), 'SM4').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectRejectedError);
    expect(error).toMatchObject({ errorType: 'ValidationException', httpStatus: 400 });
    expect((error as ConnectRejectedError).reason).toContain('1024');
    await expect(say(chat.connectionToken, 'x'.repeat(1024), 'SM5')).resolves.toHaveProperty(
      'messageId',
    );
  });

  it('reports an unreachable service as retryable', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const endpoint = `http://127.0.0.1:${closedPort}`;
    const options = { region: emulator.region, endpoint, credentials, maxAttempts: 1 };
    const unreachable = new ConnectClient(options);
    const config = AppConfig.fromEnv({
      AWS_REGION: emulator.region,
      CONNECT_INSTANCE_ID: emulator.instanceId,
      CONNECT_CONTACT_FLOW_ID: EMULATOR_DEFAULTS.contactFlowId,
      CONNECT_STREAMING_TOPIC_ARN: emulator.topicArn,
    });
    const offline = new ConnectGateway(config, unreachable, participantClient, new Metrics());

    await expect(
      offline.startChat({ displayName: 'Customer', attributes: {}, clientToken: 'start:gone' }),
    ).rejects.toMatchObject({
      constructor: ConnectRetryableError,
      operation: 'StartChatContact',
      // Under jest the SDK wraps Node's (other-realm) socket error, so only the message keeps the code.
      reason: expect.stringContaining('ECONNREFUSED'),
      httpStatus: undefined,
    });
    unreachable.destroy();
  });
});
