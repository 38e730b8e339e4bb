import {
  ConnectClient,
  StartChatContactCommand,
  StartContactStreamingCommand,
} from '@aws-sdk/client-connect';
import {
  CompleteAttachmentUploadCommand,
  ConnectParticipantClient,
  CreateParticipantConnectionCommand,
  DisconnectParticipantCommand,
  GetAttachmentCommand,
  GetTranscriptCommand,
  SendEventCommand,
  SendMessageCommand,
  StartAttachmentUploadCommand,
} from '@aws-sdk/client-connectparticipant';
import { Inject, Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { AppConfig } from '../config';
import { Metrics } from '../ops/metrics';
import { putAttachmentContent } from './attachment-content';
import { CONNECT_CLIENT, CONNECT_PARTICIPANT_CLIENT } from './connect-clients';
import {
  ConnectAccessDeniedError,
  type ConnectOperation,
  ConnectRejectedError,
  ConnectRetryableError,
} from './connect-errors';
import type {
  AttachmentLink,
  AttachmentToUpload,
  OutgoingEvent,
  OutgoingMessage,
  ParticipantConnection,
  SentMessage,
  StartChatRequest,
  StartedChat,
  StartedStreaming,
  TranscriptItem,
  UploadedAttachment,
} from './connect-types';
import { type ConnectService, translateConnectError } from './error-translation';

/**
 * The only door to Amazon Connect and its Participant Service. Every failure comes out as a
 * ConnectGatewayError: retryable, access denied (refresh with the ParticipantToken) or rejected.
 * The SDK clients keep their own retry (3 attempts for throttling and 5xx); a retryable error
 * here means those attempts are spent, and the relay's backoff takes over.
 */
@Injectable()
export class ConnectGateway {
  private readonly calls: Counter<'operation' | 'outcome'>;

  constructor(
    private readonly config: AppConfig,
    @Inject(CONNECT_CLIENT) private readonly connect: ConnectClient,
    @Inject(CONNECT_PARTICIPANT_CLIENT) private readonly participant: ConnectParticipantClient,
    metrics: Metrics,
  ) {
    this.calls = metrics.counter(
      'csb_connect_api_calls_total',
      'Calls to Amazon Connect and its Participant Service, by operation and outcome',
      ['operation', 'outcome'],
    );
  }

  async startChat(request: StartChatRequest): Promise<StartedChat> {
    const operation = 'StartChatContact';
    const answer = await this.call(operation, 'connect', [], () =>
      this.connect.send(
        new StartChatContactCommand({
          InstanceId: this.config.connect.instanceId,
          ContactFlowId: this.config.connect.contactFlowId,
          ParticipantDetails: { DisplayName: request.displayName },
          Attributes: request.attributes,
          SupportedMessagingContentTypes: request.supportedContentTypes ?? ['text/plain'],
          ClientToken: request.clientToken,
          ...(request.chatDurationMinutes !== undefined
            ? { ChatDurationInMinutes: request.chatDurationMinutes }
            : {}),
          ...(request.persistentFromContactId !== undefined
            ? {
                PersistentChat: {
                  RehydrationType: 'ENTIRE_PAST_SESSION',
                  SourceContactId: request.persistentFromContactId,
                },
              }
            : {}),
        }),
      ),
    );
    return {
      contactId: present(answer.ContactId, 'ContactId', operation),
      participantId: present(answer.ParticipantId, 'ParticipantId', operation),
      participantToken: present(answer.ParticipantToken, 'ParticipantToken', operation),
    };
  }

  async startStreaming(contactId: string, clientToken: string): Promise<StartedStreaming> {
    const operation = 'StartContactStreaming';
    const answer = await this.call(operation, 'connect', [], () =>
      this.connect.send(
        new StartContactStreamingCommand({
          InstanceId: this.config.connect.instanceId,
          ContactId: contactId,
          ChatStreamingConfiguration: {
            StreamingEndpointArn: this.config.connect.streamingTopicArn,
          },
          ClientToken: clientToken,
        }),
      ),
    );
    return { streamingId: present(answer.StreamingId, 'StreamingId', operation) };
  }

  /** Connects the customer the first time; called again, it issues a fresh ConnectionToken. */
  async connectParticipant(participantToken: string): Promise<ParticipantConnection> {
    const operation = 'CreateParticipantConnection';
    const answer = await this.call(operation, 'participant', [participantToken], () =>
      this.participant.send(
        new CreateParticipantConnectionCommand({
          ParticipantToken: participantToken,
          ConnectParticipant: true,
          Type: ['CONNECTION_CREDENTIALS'],
        }),
      ),
    );
    const credentials = answer.ConnectionCredentials;
    return {
      connectionToken: present(credentials?.ConnectionToken, 'ConnectionToken', operation),
      expiresAt: epochMs(credentials?.Expiry, 'Expiry', operation),
    };
  }

  async sendMessage(connectionToken: string, message: OutgoingMessage): Promise<SentMessage> {
    const operation = 'SendMessage';
    const answer = await this.call(operation, 'participant', [connectionToken], () =>
      this.participant.send(
        new SendMessageCommand({
          ConnectionToken: connectionToken,
          ContentType: message.contentType,
          Content: message.content,
          ClientToken: message.clientToken,
        }),
      ),
    );
    return {
      messageId: present(answer.Id, 'Id', operation),
      absoluteTime: present(answer.AbsoluteTime, 'AbsoluteTime', operation),
    };
  }

  async sendEvent(connectionToken: string, event: OutgoingEvent): Promise<void> {
    await this.call('SendEvent', 'participant', [connectionToken], () =>
      this.participant.send(
        new SendEventCommand({
          ConnectionToken: connectionToken,
          ContentType: event.contentType,
          Content: event.content,
          ClientToken: event.clientToken,
        }),
      ),
    );
  }

  async disconnect(connectionToken: string, clientToken: string): Promise<void> {
    await this.call('DisconnectParticipant', 'participant', [connectionToken], () =>
      this.participant.send(
        new DisconnectParticipantCommand({
          ConnectionToken: connectionToken,
          ClientToken: clientToken,
        }),
      ),
    );
  }

  /**
   * StartAttachmentUpload → PUT of the bytes → CompleteAttachmentUpload. Retried with the same
   * ClientToken, each step answers as before (Connect's idempotency), so a retry resumes.
   */
  async uploadAttachment(
    connectionToken: string,
    file: AttachmentToUpload,
  ): Promise<UploadedAttachment> {
    const started = await this.call('StartAttachmentUpload', 'participant', [connectionToken], () =>
      this.participant.send(
        new StartAttachmentUploadCommand({
          ConnectionToken: connectionToken,
          ContentType: file.contentType,
          AttachmentSizeInBytes: file.content.length,
          AttachmentName: file.name,
          ClientToken: file.clientToken,
        }),
      ),
    );
    const attachmentId = present(started.AttachmentId, 'AttachmentId', 'StartAttachmentUpload');
    const url = present(started.UploadMetadata?.Url, 'UploadMetadata.Url', 'StartAttachmentUpload');
    await putAttachmentContent(url, started.UploadMetadata?.HeadersToInclude ?? {}, file.content);
    await this.call('CompleteAttachmentUpload', 'participant', [connectionToken], () =>
      this.participant.send(
        new CompleteAttachmentUploadCommand({
          ConnectionToken: connectionToken,
          AttachmentIds: [attachmentId],
          ClientToken: `${file.clientToken}:complete`,
        }),
      ),
    );
    return { attachmentId };
  }

  /** A short-lived download URL for an attachment of the contact (e.g. one the agent sent). */
  async attachmentUrl(connectionToken: string, attachmentId: string): Promise<AttachmentLink> {
    const operation = 'GetAttachment';
    const answer = await this.call(operation, 'participant', [connectionToken], () =>
      this.participant.send(
        new GetAttachmentCommand({ ConnectionToken: connectionToken, AttachmentId: attachmentId }),
      ),
    );
    return {
      url: present(answer.Url, 'Url', operation),
      expiresAt: epochMs(answer.UrlExpiry, 'UrlExpiry', operation),
    };
  }

  /** Up to `count` items that came before `itemId`, oldest first, as the customer sees them. */
  async itemsBefore(
    connectionToken: string,
    itemId: string,
    count: number,
  ): Promise<TranscriptItem[]> {
    const answer = await this.call('GetTranscript', 'participant', [connectionToken], () =>
      this.participant.send(
        new GetTranscriptCommand({
          ConnectionToken: connectionToken,
          StartPosition: { Id: itemId },
          ScanDirection: 'BACKWARD',
          SortOrder: 'ASCENDING',
          MaxResults: count,
        }),
      ),
    );
    return (answer.Transcript ?? []).flatMap((item) =>
      item.Id && item.Id !== itemId && item.Type && item.ContentType && item.AbsoluteTime
        ? [
            {
              id: item.Id,
              type: item.Type as TranscriptItem['type'],
              contentType: item.ContentType,
              content: item.Content,
              participantRole: item.ParticipantRole as TranscriptItem['participantRole'],
              displayName: item.DisplayName,
              contactId: item.ContactId,
              absoluteTime: item.AbsoluteTime,
              attachments: (item.Attachments ?? []).map((attachment) => ({
                attachmentId: attachment.AttachmentId ?? '',
                name: attachment.AttachmentName ?? '',
                contentType: attachment.ContentType ?? '',
                status: attachment.Status,
              })),
            },
          ]
        : [],
    );
  }

  private async call<T>(
    operation: ConnectOperation,
    service: ConnectService,
    secrets: string[],
    send: () => Promise<T>,
  ): Promise<T> {
    try {
      const answer = await send();
      this.calls.inc({ operation, outcome: 'ok' });
      return answer;
    } catch (error) {
      const translated = translateConnectError(error, { operation, service, secrets });
      this.calls.inc({ operation, outcome: outcomeOf(translated) });
      throw translated;
    }
  }
}

function outcomeOf(error: Error): string {
  if (error instanceof ConnectAccessDeniedError) return 'access-denied';
  if (error instanceof ConnectRejectedError) return 'rejected';
  return 'retryable';
}

/** An answer without a member the API always returns: treated like a garbled reply. */
function present<T>(value: T | undefined, member: string, operation: ConnectOperation): T {
  if (value === undefined || value === null || value === '') {
    throw new ConnectRetryableError(operation, `the answer has no ${member}`);
  }
  return value;
}

function epochMs(iso: string | undefined, member: string, operation: ConnectOperation): number {
  const ms = Date.parse(present(iso, member, operation));
  if (Number.isNaN(ms)) throw new ConnectRetryableError(operation, `${member} is not a timestamp`);
  return ms;
}
