import { Metrics } from '../ops/metrics';
import {
  AccessDeniedException as ConnectAccessDenied,
  ConnectClient,
  ConnectServiceException,
  InternalServiceException,
  InvalidParameterException,
  InvalidRequestException,
  LimitExceededException,
  ResourceNotFoundException as ConnectResourceNotFound,
  StartChatContactCommand,
  StartContactStreamingCommand,
  ThrottlingException as ConnectThrottling,
} from '@aws-sdk/client-connect';
import {
  AccessDeniedException,
  CompleteAttachmentUploadCommand,
  ConflictException,
  ConnectParticipantClient,
  CreateParticipantConnectionCommand,
  DisconnectParticipantCommand,
  GetAttachmentCommand,
  InternalServerException,
  ResourceNotFoundException,
  SendEventCommand,
  SendMessageCommand,
  ServiceQuotaExceededException,
  StartAttachmentUploadCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-connectparticipant';
import { mockClient } from 'aws-sdk-client-mock';
import { AppConfig } from '../config';
import {
  ConnectAccessDeniedError,
  ConnectGateway,
  ConnectGatewayError,
  ConnectRejectedError,
  ConnectRetryableError,
} from './index';

const TOPIC_ARN = 'arn:aws:sns:eu-west-2:123456789012:chat-stream';
const config = AppConfig.fromEnv({
  AWS_REGION: 'eu-west-2',
  CONNECT_INSTANCE_ID: 'instance-1',
  CONNECT_CONTACT_FLOW_ID: 'flow-1',
  CONNECT_STREAMING_TOPIC_ARN: TOPIC_ARN,
});
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const PARTICIPANT_TOKEN = 'participant-token-0123456789abcdef';
const CONNECTION_TOKEN = 'connection-token-0123456789abcdef';

describe('ConnectGateway', () => {
  const connectClient = new ConnectClient({ region: 'eu-west-2', credentials });
  const participantClient = new ConnectParticipantClient({ region: 'eu-west-2', credentials });
  const connect = mockClient(connectClient);
  const participant = mockClient(participantClient);
  const gateway = new ConnectGateway(config, connectClient, participantClient, new Metrics());

  beforeEach(() => {
    connect.reset();
    participant.reset();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  afterAll(() => {
    connect.restore();
    participant.restore();
  });

  const inputOf = <T>(calls: { args: [{ input: T }] }[]): T => {
    expect(calls).toHaveLength(1);
    return calls[0].args[0].input;
  };

  describe('startChat', () => {
    it('starts the chat in the configured instance and flow, without persistence unless asked', async () => {
      connect.on(StartChatContactCommand).resolves({
        ContactId: 'contact-1',
        ParticipantId: 'participant-1',
        ParticipantToken: PARTICIPANT_TOKEN,
      });

      const chat = await gateway.startChat({
        displayName: 'Customer',
        attributes: { channel: 'sms' },
        clientToken: 'start:conv-1',
      });

      expect(chat).toEqual({
        contactId: 'contact-1',
        participantId: 'participant-1',
        participantToken: PARTICIPANT_TOKEN,
      });
      expect(inputOf(connect.commandCalls(StartChatContactCommand))).toEqual({
        InstanceId: 'instance-1',
        ContactFlowId: 'flow-1',
        ParticipantDetails: { DisplayName: 'Customer' },
        Attributes: { channel: 'sms' },
        SupportedMessagingContentTypes: ['text/plain'],
        ClientToken: 'start:conv-1',
      });
    });

    it('continues an ended chat as a persistent chat, with duration and content types', async () => {
      connect.on(StartChatContactCommand).resolves({
        ContactId: 'contact-2',
        ParticipantId: 'participant-2',
        ParticipantToken: PARTICIPANT_TOKEN,
      });

      await gateway.startChat({
        displayName: 'Customer',
        attributes: {},
        clientToken: 'start:conv-1:2',
        persistentFromContactId: 'contact-1',
        chatDurationMinutes: 120,
        supportedContentTypes: ['text/plain', 'text/markdown'],
      });

      expect(inputOf(connect.commandCalls(StartChatContactCommand))).toMatchObject({
        PersistentChat: { RehydrationType: 'ENTIRE_PAST_SESSION', SourceContactId: 'contact-1' },
        ChatDurationInMinutes: 120,
        SupportedMessagingContentTypes: ['text/plain', 'text/markdown'],
      });
    });

    it('treats an answer without a ParticipantToken as a garbled, retryable reply', async () => {
      connect.on(StartChatContactCommand).resolves({ ContactId: 'c', ParticipantId: 'p' });
      await expect(
        gateway.startChat({ displayName: 'C', attributes: {}, clientToken: 't' }),
      ).rejects.toMatchObject({
        constructor: ConnectRetryableError,
        operation: 'StartChatContact',
        reason: 'the answer has no ParticipantToken',
      });
    });
  });

  it('startStreaming streams the contact to the configured topic', async () => {
    connect.on(StartContactStreamingCommand).resolves({ StreamingId: 'streaming-1' });

    await expect(gateway.startStreaming('contact-1', 'stream:conv-1')).resolves.toEqual({
      streamingId: 'streaming-1',
    });
    expect(inputOf(connect.commandCalls(StartContactStreamingCommand))).toEqual({
      InstanceId: 'instance-1',
      ContactId: 'contact-1',
      ChatStreamingConfiguration: { StreamingEndpointArn: TOPIC_ARN },
      ClientToken: 'stream:conv-1',
    });
  });

  describe('connectParticipant', () => {
    it('connects the participant for connection credentials and reads Expiry as epoch ms', async () => {
      participant.on(CreateParticipantConnectionCommand).resolves({
        ConnectionCredentials: {
          ConnectionToken: CONNECTION_TOKEN,
          Expiry: '2026-11-22T10:00:00.123Z',
        },
      });

      await expect(gateway.connectParticipant(PARTICIPANT_TOKEN)).resolves.toEqual({
        connectionToken: CONNECTION_TOKEN,
        expiresAt: Date.UTC(2026, 10, 22, 10, 0, 0, 123),
      });
      expect(inputOf(participant.commandCalls(CreateParticipantConnectionCommand))).toEqual({
        ParticipantToken: PARTICIPANT_TOKEN,
        ConnectParticipant: true,
        Type: ['CONNECTION_CREDENTIALS'],
      });
    });

    it('refuses an Expiry that is not a timestamp', async () => {
      participant.on(CreateParticipantConnectionCommand).resolves({
        ConnectionCredentials: { ConnectionToken: CONNECTION_TOKEN, Expiry: 'tomorrow' },
      });
      await expect(gateway.connectParticipant(PARTICIPANT_TOKEN)).rejects.toMatchObject({
        constructor: ConnectRetryableError,
        reason: 'Expiry is not a timestamp',
      });
    });
  });

  it('sendMessage sends the content with its ClientToken', async () => {
    participant
      .on(SendMessageCommand)
      .resolves({ Id: 'message-1', AbsoluteTime: '2026-11-21T10:00:00.000Z' });

    await expect(
      gateway.sendMessage(CONNECTION_TOKEN, {
        content: 'hello',
        contentType: 'text/plain',
        clientToken: 'SM123',
      }),
    ).resolves.toEqual({ messageId: 'message-1', absoluteTime: '2026-11-21T10:00:00.000Z' });
    expect(inputOf(participant.commandCalls(SendMessageCommand))).toEqual({
      ConnectionToken: CONNECTION_TOKEN,
      ContentType: 'text/plain',
      Content: 'hello',
      ClientToken: 'SM123',
    });
  });

  it('sendEvent and disconnect pass the connection token and ClientToken', async () => {
    participant.on(SendEventCommand).resolves({ Id: 'event-1' });
    participant.on(DisconnectParticipantCommand).resolves({});

    await gateway.sendEvent(CONNECTION_TOKEN, {
      contentType: 'application/vnd.amazonaws.connect.event.typing',
      clientToken: 'typing-1',
    });
    await gateway.disconnect(CONNECTION_TOKEN, 'bye-1');

    expect(inputOf(participant.commandCalls(SendEventCommand))).toEqual({
      ConnectionToken: CONNECTION_TOKEN,
      ContentType: 'application/vnd.amazonaws.connect.event.typing',
      ClientToken: 'typing-1',
    });
    expect(inputOf(participant.commandCalls(DisconnectParticipantCommand))).toEqual({
      ConnectionToken: CONNECTION_TOKEN,
      ClientToken: 'bye-1',
    });
  });

  describe('uploadAttachment', () => {
    const UPLOAD_URL = 'https://uploads.example/put?X-Amz-Security-Token=secret-session';
    const file = {
      name: 'photo.png',
      contentType: 'image/png',
      content: Buffer.from('png-bytes'),
      clientToken: 'MM42',
    };

    beforeEach(() => {
      participant.on(StartAttachmentUploadCommand).resolves({
        AttachmentId: 'attachment-1',
        UploadMetadata: {
          Url: UPLOAD_URL,
          UrlExpiry: '2026-11-21T10:05:00.000Z',
          HeadersToInclude: {
            'Content-Type': 'image/png',
            'x-amz-acl': 'bucket-owner-full-control',
          },
        },
      });
      participant.on(CompleteAttachmentUploadCommand).resolves({});
    });

    it('starts the upload, PUTs the bytes with exactly the given headers, then completes it', async () => {
      const steps: string[] = [];
      const fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation(() => {
        steps.push('PUT');
        return Promise.resolve(new Response(null, { status: 200 }));
      });
      participant.on(CompleteAttachmentUploadCommand).callsFake(() => {
        steps.push('complete');
        return {};
      });

      await expect(gateway.uploadAttachment(CONNECTION_TOKEN, file)).resolves.toEqual({
        attachmentId: 'attachment-1',
      });

      expect(inputOf(participant.commandCalls(StartAttachmentUploadCommand))).toEqual({
        ConnectionToken: CONNECTION_TOKEN,
        ContentType: 'image/png',
        AttachmentSizeInBytes: 9,
        AttachmentName: 'photo.png',
        ClientToken: 'MM42',
      });
      expect(fetchSpy).toHaveBeenCalledTimes(1);
      const [url, init] = fetchSpy.mock.calls[0];
      expect(url).toBe(UPLOAD_URL);
      expect(init).toMatchObject({
        method: 'PUT',
        headers: { 'Content-Type': 'image/png', 'x-amz-acl': 'bucket-owner-full-control' },
        body: file.content,
      });
      expect(Object.keys(init?.headers ?? {})).toHaveLength(2);
      expect(inputOf(participant.commandCalls(CompleteAttachmentUploadCommand))).toEqual({
        ConnectionToken: CONNECTION_TOKEN,
        AttachmentIds: ['attachment-1'],
        ClientToken: 'MM42:complete',
      });
      expect(steps).toEqual(['PUT', 'complete']);
    });

    it.each([
      [503, 'retryable', ConnectRetryableError],
      [403, 'rejected', ConnectRejectedError],
    ])(
      'turns a PUT answered %i into a %s error and does not complete',
      async (status, _, expected) => {
        jest.spyOn(globalThis, 'fetch').mockResolvedValue(new Response('<Error/>', { status }));

        const error = await gateway
          .uploadAttachment(CONNECTION_TOKEN, file)
          .catch((e: unknown) => e);

        expect(error).toBeInstanceOf(expected);
        expect(error).toMatchObject({
          operation: 'UploadAttachmentContent',
          reason: `the upload URL answered ${status}`,
          httpStatus: status,
        });
        expect(participant.commandCalls(CompleteAttachmentUploadCommand)).toHaveLength(0);
      },
    );

    it('turns a PUT that never got an answer into a retryable error without the URL', async () => {
      const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      jest
        .spyOn(globalThis, 'fetch')
        .mockRejectedValue(new TypeError('fetch failed', { cause: refused }));

      const error = await gateway.uploadAttachment(CONNECTION_TOKEN, file).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ConnectRetryableError);
      expect(error).toMatchObject({
        operation: 'UploadAttachmentContent',
        errorType: 'ECONNREFUSED',
      });
      expect((error as Error).message).not.toContain('secret-session');
      expect(participant.commandCalls(CompleteAttachmentUploadCommand)).toHaveLength(0);
    });
  });

  it('attachmentUrl answers the download URL and its expiry in epoch ms', async () => {
    participant.on(GetAttachmentCommand).resolves({
      Url: 'https://downloads.example/a1',
      UrlExpiry: '2026-11-21T10:05:00.000Z',
    });

    await expect(gateway.attachmentUrl(CONNECTION_TOKEN, 'attachment-1')).resolves.toEqual({
      url: 'https://downloads.example/a1',
      expiresAt: Date.UTC(2026, 10, 21, 10, 5),
    });
    expect(inputOf(participant.commandCalls(GetAttachmentCommand))).toEqual({
      ConnectionToken: CONNECTION_TOKEN,
      AttachmentId: 'attachment-1',
    });
  });

  describe('error translation', () => {
    const $metadata = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'req-1' });
    const sendMessage = () =>
      gateway.sendMessage(CONNECTION_TOKEN, {
        content: 'hi',
        contentType: 'text/plain',
        clientToken: 'c1',
      });
    const startChat = () =>
      gateway.startChat({ displayName: 'C', attributes: {}, clientToken: 'c1' });

    type Expected =
      typeof ConnectRetryableError | typeof ConnectAccessDeniedError | typeof ConnectRejectedError;
    const participantCases: [string, Error, number, Expected][] = [
      [
        'AccessDeniedException',
        new AccessDeniedException({
          message: 'Access denied',
          Message: 'Access denied',
          $metadata: $metadata(403),
        }),
        403,
        ConnectAccessDeniedError,
      ],
      [
        'ThrottlingException',
        new ThrottlingException({
          message: 'Rate exceeded',
          Message: 'Rate exceeded',
          $metadata: $metadata(429),
        }),
        429,
        ConnectRetryableError,
      ],
      [
        'InternalServerException',
        new InternalServerException({
          message: 'Internal server error',
          Message: 'Internal server error',
          $metadata: $metadata(500),
        }),
        500,
        ConnectRetryableError,
      ],
      [
        'ValidationException',
        new ValidationException({
          message: 'Content too long',
          Message: 'Content too long',
          $metadata: $metadata(400),
        }),
        400,
        ConnectRejectedError,
      ],
      [
        'ConflictException',
        new ConflictException({
          message: 'Conflict',
          Message: 'Conflict',
          $metadata: $metadata(409),
        }),
        409,
        ConnectRejectedError,
      ],
      [
        'ResourceNotFoundException',
        new ResourceNotFoundException({
          message: 'Not found',
          Message: 'Not found',
          $metadata: $metadata(404),
        }),
        404,
        ConnectRejectedError,
      ],
      [
        'ServiceQuotaExceededException',
        new ServiceQuotaExceededException({
          message: 'Too many attachments',
          Message: 'Too many attachments',
          $metadata: $metadata(402),
        }),
        402,
        ConnectRejectedError,
      ],
    ];

    it.each(participantCases)(
      'SendMessage: %s becomes the right domain error',
      async (errorType, sdkError, status, expected) => {
        participant.on(SendMessageCommand).rejects(sdkError);

        const error = await sendMessage().catch((e: unknown) => e);

        expect(error).toBeInstanceOf(ConnectGatewayError);
        expect((error as object).constructor).toBe(expected);
        expect(error).toMatchObject({
          operation: 'SendMessage',
          reason: sdkError.message,
          errorType,
          httpStatus: status,
          requestId: 'req-1',
        });
      },
    );

    const connectCases: [string, Error, number, Expected][] = [
      [
        'ThrottlingException',
        new ConnectThrottling({ message: 'Rate exceeded', $metadata: $metadata(429) }),
        429,
        ConnectRetryableError,
      ],
      [
        'InternalServiceException',
        new InternalServiceException({ message: 'Internal', $metadata: $metadata(500) }),
        500,
        ConnectRetryableError,
      ],
      [
        'LimitExceededException',
        new LimitExceededException({ message: 'Too many chats', $metadata: $metadata(429) }),
        429,
        ConnectRetryableError,
      ],
      [
        'InvalidRequestException',
        new InvalidRequestException({ message: 'Bad request', $metadata: $metadata(400) }),
        400,
        ConnectRejectedError,
      ],
      [
        'InvalidParameterException',
        new InvalidParameterException({ message: 'Bad parameter', $metadata: $metadata(400) }),
        400,
        ConnectRejectedError,
      ],
      [
        'ResourceNotFoundException',
        new ConnectResourceNotFound({ message: 'No such flow', $metadata: $metadata(404) }),
        404,
        ConnectRejectedError,
      ],
      [
        // The bridge's IAM role, not a participant: a token refresh would not help.
        'AccessDeniedException',
        new ConnectAccessDenied({ message: 'Not authorized', $metadata: $metadata(403) }),
        403,
        ConnectRejectedError,
      ],
      [
        'ServiceUnavailable',
        new ConnectServiceException({
          name: 'ServiceUnavailable',
          $fault: 'server',
          message: 'Unavailable',
          $metadata: $metadata(503),
        }),
        503,
        ConnectRetryableError,
      ],
      [
        'Teapot',
        new ConnectServiceException({
          name: 'Teapot',
          $fault: 'client',
          message: 'Short and stout',
          $metadata: $metadata(418),
        }),
        418,
        ConnectRejectedError,
      ],
    ];

    it.each(connectCases)(
      'StartChatContact: %s becomes the right domain error',
      async (errorType, sdkError, status, expected) => {
        connect.on(StartChatContactCommand).rejects(sdkError);

        const error = await startChat().catch((e: unknown) => e);

        expect((error as object).constructor).toBe(expected);
        expect(error).toMatchObject({
          operation: 'StartChatContact',
          reason: sdkError.message,
          errorType,
          httpStatus: status,
        });
      },
    );

    it('makes a network failure (no HTTP answer) retryable', async () => {
      const reset = Object.assign(new Error('socket hang up'), {
        code: 'ECONNRESET',
        $metadata: { attempts: 3 },
      });
      participant.on(SendMessageCommand).rejects(reset);

      const error = await sendMessage().catch((e: unknown) => e);

      expect((error as object).constructor).toBe(ConnectRetryableError);
      expect(error).toMatchObject({
        operation: 'SendMessage',
        reason: 'socket hang up',
        errorType: 'ECONNRESET',
        httpStatus: undefined,
      });
    });

    it('makes an SDK timeout retryable', async () => {
      const timeout = Object.assign(new Error('Connection timed out after 3000 ms'), {
        name: 'TimeoutError',
      });
      connect.on(StartContactStreamingCommand).rejects(timeout);

      await expect(gateway.startStreaming('contact-1', 's1')).rejects.toMatchObject({
        constructor: ConnectRetryableError,
        operation: 'StartContactStreaming',
        errorType: 'TimeoutError',
      });
    });

    it('reads a Retry-After header when there is one', async () => {
      const throttled = new ThrottlingException({
        message: 'Rate exceeded',
        Message: 'Rate exceeded',
        $metadata: $metadata(429),
      });
      Object.defineProperty(throttled, '$response', {
        value: { statusCode: 429, headers: { 'retry-after': '2' } },
      });
      participant.on(SendMessageCommand).rejects(throttled);

      await expect(sendMessage()).rejects.toMatchObject({ retryAfterMs: 2_000 });
      participant.on(SendMessageCommand).rejects(
        new ThrottlingException({
          message: 'Rate exceeded',
          Message: 'Rate exceeded',
          $metadata: $metadata(429),
        }),
      );
      await expect(sendMessage()).rejects.toMatchObject({ retryAfterMs: undefined });
    });

    it('never lets a token the service echoes reach the message', async () => {
      const echo = (token: string) =>
        new ValidationException({
          message: `Value '${token}' at 'connectionToken' failed to satisfy constraint`,
          Message: 'echo',
          $metadata: $metadata(400),
        });
      participant.on(SendMessageCommand).rejects(echo(CONNECTION_TOKEN));
      participant.on(CreateParticipantConnectionCommand).rejects(echo(PARTICIPANT_TOKEN));

      const sent = (await sendMessage().catch((e: unknown) => e)) as ConnectRejectedError;
      const connected = (await gateway
        .connectParticipant(PARTICIPANT_TOKEN)
        .catch((e: unknown) => e)) as ConnectRejectedError;

      expect(sent.reason).toBe(
        `Value '[redacted]' at 'connectionToken' failed to satisfy constraint`,
      );
      expect(sent.message).not.toContain(CONNECTION_TOKEN);
      expect(connected.reason).toContain('[redacted]');
      expect(connected.message).not.toContain(PARTICIPANT_TOKEN);
      expect(JSON.stringify(connected)).not.toContain(PARTICIPANT_TOKEN);
    });
  });
});
