import {
  ConnectClient,
  InternalServiceException,
  InvalidRequestException,
  LimitExceededException,
  ResourceNotFoundException as ConnectResourceNotFound,
  StartChatContactCommand,
  StartContactStreamingCommand,
  StopContactStreamingCommand,
  ThrottlingException as ConnectThrottling,
} from '@aws-sdk/client-connect';
import {
  AccessDeniedException,
  CompleteAttachmentUploadCommand,
  ConnectParticipantClient,
  CreateParticipantConnectionCommand,
  DisconnectParticipantCommand,
  GetAttachmentCommand,
  GetTranscriptCommand,
  type GetTranscriptCommandInput,
  InternalServerException,
  ResourceNotFoundException,
  SendEventCommand,
  SendMessageCommand,
  ServiceQuotaExceededException,
  StartAttachmentUploadCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-connectparticipant';
import { ConnectEmulator, EMULATOR_DEFAULTS, type EmulatorOptions } from './emulator';
import { EmulatorClient } from './emulator-client';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('the Connect emulator through the AWS SDK', () => {
  let emulator: ConnectEmulator;
  let connect: ConnectClient;
  let participant: ConnectParticipantClient;
  let agent: EmulatorClient;
  let clock: number;

  async function start(options: EmulatorOptions = {}) {
    await emulator?.close();
    clock = Date.parse('2026-11-21T10:00:00.000Z');
    emulator = await ConnectEmulator.start({ now: () => clock, ...options });
    const client = { region: 'us-east-1', endpoint: emulator.url, credentials, maxAttempts: 1 };
    connect = new ConnectClient(client);
    participant = new ConnectParticipantClient(client);
    agent = new EmulatorClient(emulator.url);
  }

  beforeEach(async () => {
    await start();
  });

  afterAll(async () => {
    await emulator?.close();
  });

  const startChat = (overrides: Record<string, unknown> = {}) =>
    connect.send(
      new StartChatContactCommand({
        InstanceId: EMULATOR_DEFAULTS.instanceId,
        ContactFlowId: EMULATOR_DEFAULTS.contactFlowId,
        ParticipantDetails: { DisplayName: 'Ada' },
        Attributes: { channel: 'sms' },
        SupportedMessagingContentTypes: ['text/plain', 'text/markdown'],
        ...overrides,
      }),
    );
  const startStreaming = (ContactId: string, topicArn = emulator.topicArn) =>
    connect.send(
      new StartContactStreamingCommand({
        InstanceId: EMULATOR_DEFAULTS.instanceId,
        ContactId,
        ChatStreamingConfiguration: { StreamingEndpointArn: topicArn },
      }),
    );
  const connectCustomer = (ParticipantToken: string) =>
    participant.send(
      new CreateParticipantConnectionCommand({
        ParticipantToken,
        ConnectParticipant: true,
        Type: ['CONNECTION_CREDENTIALS'],
      }),
    );
  async function openChat() {
    const chat = await startChat();
    await startStreaming(chat.ContactId!);
    const connection = await connectCustomer(chat.ParticipantToken!);
    return { ...chat, ConnectionToken: connection.ConnectionCredentials!.ConnectionToken! };
  }
  const say = (ConnectionToken: string, Content: string, ClientToken?: string) =>
    participant.send(
      new SendMessageCommand({ ConnectionToken, ContentType: 'text/plain', Content, ClientToken }),
    );

  describe('the start sequence', () => {
    it('starts a chat, streams it and connects the customer with a day-long connection token', async () => {
      const chat = await startChat();
      expect(chat.ContactId).toMatch(/^[0-9a-f-]{36}$/);
      expect(chat.ParticipantId).toMatch(/^[0-9a-f-]{36}$/);
      expect(chat.ParticipantToken!.length).toBeGreaterThan(40);

      const streaming = await startStreaming(chat.ContactId!);
      expect(streaming.StreamingId).toBeTruthy();

      const connection = await connectCustomer(chat.ParticipantToken!);
      expect(connection.ConnectionCredentials?.ConnectionToken).toBeTruthy();
      expect(connection.ConnectionCredentials?.Expiry).toBe('2026-11-22T10:00:00.000Z');
      expect(connection.Websocket).toBeUndefined();

      const sent = await say(connection.ConnectionCredentials!.ConnectionToken!, 'hello');
      expect(sent.Id).toBeTruthy();
      // The clock stands still here; items still get strictly increasing times (the customer's
      // participant.joined event took the first millisecond).
      expect(sent.AbsoluteTime).toBe('2026-11-21T10:00:00.001Z');

      const contact = await agent.contact(chat.ContactId!);
      expect(contact.attributes).toEqual({ channel: 'sms' });
      expect(
        contact.transcript?.map((item) => [item.Type, item.ContentType, item.Content]),
      ).toEqual([
        ['EVENT', 'application/vnd.amazonaws.connect.event.participant.joined', undefined],
        ['MESSAGE', 'text/plain', 'hello'],
      ]);
    });

    it('refuses to connect a streaming customer before StartContactStreaming', async () => {
      const chat = await startChat();
      await expect(connectCustomer(chat.ParticipantToken!)).rejects.toBeInstanceOf(
        ValidationException,
      );
      await startStreaming(chat.ContactId!);
      await expect(connectCustomer(chat.ParticipantToken!)).resolves.toHaveProperty(
        'ConnectionCredentials',
      );
    });

    it('ends the contact when the customer connects after the connect window', async () => {
      await start({ connectWindowMs: 5 * 60_000 });
      const chat = await startChat();
      await startStreaming(chat.ContactId!);
      clock += 5 * 60_000 + 1;
      await expect(connectCustomer(chat.ParticipantToken!)).rejects.toBeInstanceOf(
        AccessDeniedException,
      );
      expect((await agent.contact(chat.ContactId!)).state).toBe('ENDED');
    });

    it('takes an omitted Type only with ConnectParticipant, and checks Type values', async () => {
      const chat = await startChat();
      await startStreaming(chat.ContactId!);
      const ParticipantToken = chat.ParticipantToken!;
      await expect(
        participant.send(new CreateParticipantConnectionCommand({ ParticipantToken })),
      ).rejects.toBeInstanceOf(ValidationException);
      await expect(
        participant.send(
          new CreateParticipantConnectionCommand({
            ParticipantToken,
            Type: ['CARRIER_PIGEON' as 'WEBSOCKET'],
          }),
        ),
      ).rejects.toBeInstanceOf(ValidationException);
      const connected = await participant.send(
        new CreateParticipantConnectionCommand({ ParticipantToken, ConnectParticipant: true }),
      );
      expect(connected.ConnectionCredentials).toBeUndefined();
      const both = await participant.send(
        new CreateParticipantConnectionCommand({
          ParticipantToken,
          Type: ['WEBSOCKET', 'CONNECTION_CREDENTIALS'],
        }),
      );
      expect(both.Websocket?.Url).toMatch(/^ws:\/\//);
      expect(both.ConnectionCredentials?.ConnectionToken).toBeTruthy();
    });

    it('refuses unknown instances and flows, bad durations and content types', async () => {
      await expect(startChat({ InstanceId: 'nope' })).rejects.toBeInstanceOf(
        ConnectResourceNotFound,
      );
      await expect(startChat({ ContactFlowId: 'nope' })).rejects.toBeInstanceOf(
        ConnectResourceNotFound,
      );
      await expect(startChat({ ChatDurationInMinutes: 59 })).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
      await expect(
        startChat({ SupportedMessagingContentTypes: ['text/markdown'] }),
      ).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
    });

    it('streams a contact to at most two endpoints, only to existing topics', async () => {
      const chat = await startChat();
      const other = emulator.sns.createTopic('second');
      const third = emulator.sns.createTopic('third');
      await startStreaming(chat.ContactId!);
      await startStreaming(chat.ContactId!, other);
      await expect(startStreaming(chat.ContactId!, third)).rejects.toBeInstanceOf(
        LimitExceededException,
      );
      await expect(
        startStreaming(
          chat.ContactId!,
          `arn:aws:sns:us-east-1:${EMULATOR_DEFAULTS.accountId}:missing`,
        ),
      ).rejects.toBeInstanceOf(InvalidRequestException);
    });

    it('stops streaming by StreamingId', async () => {
      const chat = await startChat();
      const { StreamingId } = await startStreaming(chat.ContactId!);
      const stop = (id: string) =>
        connect.send(
          new StopContactStreamingCommand({
            InstanceId: EMULATOR_DEFAULTS.instanceId,
            ContactId: chat.ContactId,
            StreamingId: id,
          }),
        );
      await stop(StreamingId!);
      expect((await agent.contact(chat.ContactId!)).streaming).toEqual([]);
      await expect(stop(StreamingId!)).rejects.toBeInstanceOf(ConnectResourceNotFound);
    });

    it('limits concurrent active chats', async () => {
      await start({ maxActiveChats: 1 });
      const first = await startChat();
      await expect(startChat()).rejects.toBeInstanceOf(LimitExceededException);
      await agent.endChat(first.ContactId!);
      await expect(startChat()).resolves.toHaveProperty('ContactId');
    });
  });

  describe('idempotency', () => {
    it('answers a repeated ClientToken with the first answer and does nothing again', async () => {
      const first = await startChat({ ClientToken: 'start-1' });
      const again = await startChat({ ClientToken: 'start-1' });
      expect(again.ContactId).toBe(first.ContactId);
      expect(await agent.contacts()).toHaveLength(1);

      const chat = await openChat();
      const sent = await say(chat.ConnectionToken, 'once', 'provider-msg-1#0');
      const resent = await say(chat.ConnectionToken, 'once', 'provider-msg-1#0');
      expect(resent).toMatchObject({ Id: sent.Id, AbsoluteTime: sent.AbsoluteTime });
      const transcript = (await agent.contact(chat.ContactId!)).transcript ?? [];
      expect(transcript.filter((item) => item.Content === 'once')).toHaveLength(1);

      const streamingAgain = await startStreaming(chat.ContactId!);
      expect((await agent.contact(chat.ContactId!)).streaming).toEqual([
        { streamingId: streamingAgain.StreamingId, topicArn: emulator.topicArn },
      ]);
    });
  });

  describe('tokens', () => {
    it('expires the connection token, and the participant token gets a new one', async () => {
      await start({ connectionTokenTtlMs: 60_000 });
      const chat = await openChat();
      clock += 60_000;
      await expect(say(chat.ConnectionToken, 'late')).rejects.toBeInstanceOf(AccessDeniedException);
      const refreshed = await connectCustomer(chat.ParticipantToken!);
      await expect(
        say(refreshed.ConnectionCredentials!.ConnectionToken!, 'after refresh'),
      ).resolves.toHaveProperty('Id');
    });

    it('expires credentials early on request', async () => {
      const chat = await openChat();
      expect((await agent.expireCredentials(chat.ContactId!)).expired).toBe(1);
      await expect(say(chat.ConnectionToken, 'x')).rejects.toBeInstanceOf(AccessDeniedException);
    });

    it('refuses every token once the contact has ended', async () => {
      const chat = await openChat();
      await agent.endChat(chat.ContactId!);
      await expect(say(chat.ConnectionToken, 'x')).rejects.toBeInstanceOf(AccessDeniedException);
      await expect(connectCustomer(chat.ParticipantToken!)).rejects.toBeInstanceOf(
        AccessDeniedException,
      );
      await expect(say('made-up-token', 'x')).rejects.toBeInstanceOf(AccessDeniedException);
    });

    it('ends the chat when the customer disconnects', async () => {
      const chat = await openChat();
      await participant.send(
        new DisconnectParticipantCommand({ ConnectionToken: chat.ConnectionToken }),
      );
      const contact = await agent.contact(chat.ContactId!);
      expect(contact.state).toBe('ENDED');
      expect(contact.transcript?.slice(-2).map((item) => item.ContentType)).toEqual([
        'application/vnd.amazonaws.connect.event.participant.left',
        'application/vnd.amazonaws.connect.event.chat.ended',
      ]);
    });
  });

  describe('messages and events', () => {
    it('limits text/plain to 1024 characters', async () => {
      const chat = await openChat();
      await expect(say(chat.ConnectionToken, 'x'.repeat(1024))).resolves.toHaveProperty('Id');
      await expect(say(chat.ConnectionToken, 'x'.repeat(1025))).rejects.toBeInstanceOf(
        ValidationException,
      );
    });

    it('takes participant events and refuses others', async () => {
      const chat = await openChat();
      const typing = await participant.send(
        new SendEventCommand({
          ConnectionToken: chat.ConnectionToken,
          ContentType: 'application/vnd.amazonaws.connect.event.typing',
        }),
      );
      expect(typing.Id).toBeTruthy();
      await expect(
        participant.send(
          new SendEventCommand({
            ConnectionToken: chat.ConnectionToken,
            ContentType: 'application/vnd.amazonaws.connect.event.chat.ended',
          }),
        ),
      ).rejects.toBeInstanceOf(ValidationException);
    });

    it('plays the agent side: join, messages, transfer and end', async () => {
      const chat = await openChat();
      await agent.agentJoins(chat.ContactId!, 'Grace');
      await agent.agentSays(chat.ContactId!, 'internal note', { visibility: 'AGENT' });
      const { contactId } = await agent.transfer(chat.ContactId!);
      expect(contactId).not.toBe(chat.ContactId);
      await agent.agentJoins(contactId, 'Linus');
      const reply = await agent.agentSays(contactId, 'hi from the second agent');
      expect(reply).toMatchObject({
        InitialContactId: chat.ContactId,
        ContactId: contactId,
        ParticipantRole: 'AGENT',
      });
      await agent.systemSays(contactId, 'The chat will end now');
      await agent.endChat(contactId);
      const contact = await agent.contact(chat.ContactId!);
      expect(contact.contactIds).toEqual([chat.ContactId, contactId]);
      expect(contact.state).toBe('ENDED');

      const transcript = await participant
        .send(new GetTranscriptCommand({ ConnectionToken: chat.ConnectionToken }))
        .catch((error: unknown) => error);
      expect(transcript).toBeInstanceOf(AccessDeniedException);
    });

    it('answers GetTranscript with the items of the contact', async () => {
      const chat = await openChat();
      await say(chat.ConnectionToken, 'first');
      await agent.agentJoins(chat.ContactId!);
      await agent.agentSays(chat.ContactId!, 'second');
      const transcript = await participant.send(
        new GetTranscriptCommand({ ConnectionToken: chat.ConnectionToken }),
      );
      expect(transcript.InitialContactId).toBe(chat.ContactId);
      expect(
        transcript.Transcript?.filter((item) => item.Type === 'MESSAGE').map(
          (item) => item.Content,
        ),
      ).toEqual(['first', 'second']);
    });

    it('pages GetTranscript from a StartPosition, backward or forward, without AGENT-only items for the customer', async () => {
      const chat = await openChat();
      await agent.agentJoins(chat.ContactId!);
      for (const line of ['one', 'two', 'three', 'four']) {
        await agent.agentSays(chat.ContactId!, line);
      }
      await agent.agentSays(chat.ContactId!, 'note for agents', { visibility: 'AGENT' });
      await agent.agentSays(chat.ContactId!, 'five');
      const messages = async (request: Omit<GetTranscriptCommandInput, 'ConnectionToken'>) =>
        (
          await participant.send(
            new GetTranscriptCommand({ ConnectionToken: chat.ConnectionToken, ...request }),
          )
        ).Transcript?.filter((item) => item.Type === 'MESSAGE');
      const all = await messages({ MaxResults: 100 });
      expect(all?.map((item) => item.Content)).toEqual(['one', 'two', 'three', 'four', 'five']);
      const four = all![3];

      const before = await messages({ StartPosition: { Id: four.Id }, MaxResults: 2 });
      expect(before?.map((item) => item.Content)).toEqual(['two', 'three']);
      const after = await messages({
        StartPosition: { Id: all![1].Id },
        ScanDirection: 'FORWARD',
        SortOrder: 'DESCENDING',
      });
      expect(after?.map((item) => item.Content)).toEqual(['five', 'four', 'three']);
      await expect(messages({ StartPosition: { Id: 'no-such-item' } })).rejects.toBeInstanceOf(
        ResourceNotFoundException,
      );
    });
  });

  describe('persistent chat', () => {
    it('continues an ended chat, and refuses to continue an active one', async () => {
      const past = await openChat();
      await expect(
        startChat({
          PersistentChat: {
            RehydrationType: 'ENTIRE_PAST_SESSION',
            SourceContactId: past.ContactId,
          },
        }),
      ).rejects.toBeInstanceOf(InvalidRequestException);
      await agent.endChat(past.ContactId!);
      const next = await startChat({
        PersistentChat: { RehydrationType: 'ENTIRE_PAST_SESSION', SourceContactId: past.ContactId },
      });
      expect(next.ContinuedFromContactId).toBe(past.ContactId);
    });
  });

  describe('attachments', () => {
    it('uploads to the pre-signed URL, completes, and hands out a download URL', async () => {
      const chat = await openChat();
      const file = Buffer.from('%PDF-1.7 tiny');
      const started = await participant.send(
        new StartAttachmentUploadCommand({
          ConnectionToken: chat.ConnectionToken,
          ContentType: 'application/pdf',
          AttachmentSizeInBytes: file.length,
          AttachmentName: 'invoice.pdf',
        }),
      );
      const { Url, HeadersToInclude } = started.UploadMetadata!;
      await expect(
        participant.send(
          new CompleteAttachmentUploadCommand({
            ConnectionToken: chat.ConnectionToken,
            AttachmentIds: [started.AttachmentId!],
          }),
        ),
      ).rejects.toBeInstanceOf(ValidationException);
      const put = await fetch(Url!, { method: 'PUT', headers: HeadersToInclude, body: file });
      expect(put.status).toBe(200);
      await participant.send(
        new CompleteAttachmentUploadCommand({
          ConnectionToken: chat.ConnectionToken,
          AttachmentIds: [started.AttachmentId!],
        }),
      );
      const got = await participant.send(
        new GetAttachmentCommand({
          ConnectionToken: chat.ConnectionToken,
          AttachmentId: started.AttachmentId,
        }),
      );
      expect(got.AttachmentSizeInBytes).toBe(file.length);
      const downloaded = Buffer.from(await (await fetch(got.Url!)).arrayBuffer());
      expect(downloaded.equals(file)).toBe(true);
      const item = (await agent.contact(chat.ContactId!)).transcript?.at(-1);
      expect(item).toMatchObject({
        Type: 'ATTACHMENT',
        ParticipantRole: 'CUSTOMER',
        Attachments: [
          { AttachmentId: started.AttachmentId, AttachmentName: 'invoice.pdf', Status: 'APPROVED' },
        ],
      });
    });

    it('refuses unsupported types, oversized files and unknown attachments', async () => {
      const chat = await openChat();
      const upload = (ContentType: string, AttachmentSizeInBytes: number) =>
        participant.send(
          new StartAttachmentUploadCommand({
            ConnectionToken: chat.ConnectionToken,
            ContentType,
            AttachmentSizeInBytes,
            AttachmentName: 'file',
          }),
        );
      await expect(upload('application/x-msdownload', 10)).rejects.toBeInstanceOf(
        ValidationException,
      );
      await expect(upload('image/png', 21 * 1024 * 1024)).rejects.toBeInstanceOf(
        ServiceQuotaExceededException,
      );
      await expect(
        participant.send(
          new GetAttachmentCommand({ ConnectionToken: chat.ConnectionToken, AttachmentId: 'nope' }),
        ),
      ).rejects.toBeInstanceOf(ResourceNotFoundException);
    });

    it('lets the agent send a file the customer side can fetch', async () => {
      const chat = await openChat();
      await agent.agentJoins(chat.ContactId!);
      const item = await agent.agentSendsFile(chat.ContactId!, {
        name: 'photo.png',
        contentType: 'image/png',
        content: Buffer.from([137, 80, 78, 71]),
      });
      const got = await participant.send(
        new GetAttachmentCommand({
          ConnectionToken: chat.ConnectionToken,
          AttachmentId: item.Attachments![0].AttachmentId,
        }),
      );
      expect([...Buffer.from(await (await fetch(got.Url!)).arrayBuffer())]).toEqual([
        137, 80, 78, 71,
      ]);
    });
  });

  describe('fault injection', () => {
    async function outcomes(seed: number): Promise<string[]> {
      await start({
        faults: {
          seed,
          operations: { SendMessage: { throttleRate: 0.3, serverErrorRate: 0.2 } },
          sns: { dropRate: 0, duplicateRate: 0 },
        },
      });
      const chat = await openChat();
      const results: string[] = [];
      for (let i = 0; i < 40; i += 1) {
        results.push(
          await say(chat.ConnectionToken, `m${i}`).then(
            () => 'ok',
            (error: Error) => error.name,
          ),
        );
      }
      return results;
    }

    it('gives the same sequence for the same seed and another for another seed', async () => {
      const first = await outcomes(42);
      const second = await outcomes(42);
      const other = await outcomes(7);
      expect(second).toEqual(first);
      expect(other).not.toEqual(first);
      expect(first).toEqual(
        expect.arrayContaining(['ok', 'ThrottlingException', 'InternalServerException']),
      );
    });

    it('answers with the typed SDK exceptions of each service', async () => {
      await start({
        faults: {
          seed: 1,
          operations: {
            StartChatContact: { throttleRate: 1 },
            StartContactStreaming: { serverErrorRate: 1 },
            SendMessage: { throttleRate: 1 },
          },
          sns: { dropRate: 0, duplicateRate: 0 },
        },
      });
      await expect(startChat()).rejects.toBeInstanceOf(ConnectThrottling);
      emulator.faults.configure({
        seed: 1,
        operations: {
          StartContactStreaming: { serverErrorRate: 1 },
          SendMessage: { throttleRate: 1 },
        },
        sns: { dropRate: 0, duplicateRate: 0 },
      });
      const chat = await startChat();
      await expect(startStreaming(chat.ContactId!)).rejects.toBeInstanceOf(
        InternalServiceException,
      );
      emulator.faults.configure({
        seed: 1,
        operations: { SendMessage: { throttleRate: 1 } },
        sns: { dropRate: 0, duplicateRate: 0 },
      });
      await startStreaming(chat.ContactId!);
      const token = (await connectCustomer(chat.ParticipantToken!)).ConnectionCredentials!
        .ConnectionToken!;
      await expect(say(token, 'x')).rejects.toBeInstanceOf(ThrottlingException);
      emulator.faults.configure({
        seed: 1,
        operations: { SendMessage: { serverErrorAfterRate: 1 } },
        sns: { dropRate: 0, duplicateRate: 0 },
      });
      await expect(say(token, 'took effect', 'ct-1')).rejects.toBeInstanceOf(
        InternalServerException,
      );
      const transcript = (await agent.contact(chat.ContactId!)).transcript ?? [];
      expect(transcript.filter((item) => item.Content === 'took effect')).toHaveLength(1);
      expect((await agent.requests('SendMessage')).map((r) => r.status)).toEqual([429, 500]);
    });
  });
});
