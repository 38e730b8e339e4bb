export type ParticipantRole = 'CUSTOMER' | 'AGENT' | 'SYSTEM' | 'CUSTOM_BOT';
export type ItemType = 'MESSAGE' | 'EVENT' | 'ATTACHMENT';
export type Visibility = 'CUSTOMER' | 'AGENT' | 'ALL';

export const EVENT = {
  typing: 'application/vnd.amazonaws.connect.event.typing',
  participantJoined: 'application/vnd.amazonaws.connect.event.participant.joined',
  participantLeft: 'application/vnd.amazonaws.connect.event.participant.left',
  transferSucceeded: 'application/vnd.amazonaws.connect.event.transfer.succeeded',
  transferFailed: 'application/vnd.amazonaws.connect.event.transfer.failed',
  chatEnded: 'application/vnd.amazonaws.connect.event.chat.ended',
  connectionAcknowledged: 'application/vnd.amazonaws.connect.event.connection.acknowledged',
  messageDelivered: 'application/vnd.amazonaws.connect.event.message.delivered',
  messageRead: 'application/vnd.amazonaws.connect.event.message.read',
} as const;

export interface ConnectionCredential {
  token: string;
  expiresAt: number;
}

export interface Participant {
  participantId: string;
  role: ParticipantRole;
  displayName: string;
  participantToken?: string;
  connections: ConnectionCredential[];
  connected: boolean;
  left: boolean;
}

export interface AttachmentRef {
  ContentType: string;
  AttachmentId: string;
  AttachmentName: string;
  Status: 'APPROVED' | 'REJECTED' | 'IN_PROGRESS';
}

/** A transcript item, in the shape Connect writes it to the stream and to GetTranscript. */
export interface ChatItem {
  AbsoluteTime: string;
  Content?: string;
  ContentType: string;
  Id: string;
  Type: ItemType;
  ParticipantId?: string;
  DisplayName?: string;
  ParticipantRole?: ParticipantRole;
  InitialContactId: string;
  ContactId: string;
  Attachments?: AttachmentRef[];
  /** Not part of the item body: carried as the MessageVisibility attribute on the stream. */
  visibility: Visibility;
}

export interface StoredAttachment {
  attachmentId: string;
  initialContactId: string;
  participantId: string;
  name: string;
  contentType: string;
  sizeInBytes: number;
  content?: Buffer;
  completed: boolean;
}

export interface Contact {
  initialContactId: string;
  /** The current ContactId: changes on transfer. */
  contactId: string;
  contactIds: string[];
  instanceId: string;
  contactFlowId: string;
  createdAt: number;
  endsAt: number;
  endedAt?: number;
  attributes: Record<string, string>;
  supportedContentTypes: string[];
  persistentChat?: { RehydrationType: string; SourceContactId: string };
  participants: Participant[];
  streaming: Map<string, string>;
  transcript: ChatItem[];
}
