export interface StartChatRequest {
  displayName: string;
  attributes: Record<string, string>;
  clientToken: string;
  /** The InitialContactId of an ended chat to continue (persistent chat, entire past session). */
  persistentFromContactId?: string;
  chatDurationMinutes?: number;
  /** Defaults to `['text/plain']`; Connect requires text/plain in the list. */
  supportedContentTypes?: string[];
}

export interface StartedChat {
  contactId: string;
  participantId: string;
  participantToken: string;
}

export interface StartedStreaming {
  streamingId: string;
}

export interface ParticipantConnection {
  connectionToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface OutgoingMessage {
  content: string;
  contentType: string;
  clientToken: string;
}

export interface SentMessage {
  messageId: string;
  /** ISO 8601, as Connect stamps the message. */
  absoluteTime: string;
}

export interface OutgoingEvent {
  contentType: string;
  /** Required by some events, e.g. `{"messageId": …}` for message.delivered and message.read. */
  content?: string;
  clientToken: string;
}

export interface AttachmentToUpload {
  name: string;
  contentType: string;
  content: Buffer;
  /** At most 491 characters: CompleteAttachmentUpload takes `<clientToken>:complete` (≤ 500). */
  clientToken: string;
}

export interface UploadedAttachment {
  attachmentId: string;
}

export interface AttachmentLink {
  url: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** A chat item as GetTranscript answers it (the customer's view: no AGENT-only items). */
export interface TranscriptItem {
  id: string;
  type: 'MESSAGE' | 'EVENT' | 'ATTACHMENT';
  contentType: string;
  content?: string;
  participantRole?: 'CUSTOMER' | 'AGENT' | 'SYSTEM' | 'CUSTOM_BOT';
  displayName?: string;
  contactId?: string;
  /** ISO 8601. */
  absoluteTime: string;
  attachments: { attachmentId: string; name: string; contentType: string; status?: string }[];
}
