import { z } from 'zod';
import type { TranscriptItem } from '../connect';

const EVENT_PREFIX = 'application/vnd.amazonaws.connect.event.';

/** What a Connect stream item is, by Type and, for events, by ContentType. */
export type StreamEventKind =
  | 'message'
  | 'attachment'
  | 'typing'
  | 'participant-joined'
  | 'participant-left'
  | 'transfer-succeeded'
  | 'transfer-failed'
  | 'chat-ended'
  | 'message-delivered'
  | 'message-read'
  | 'other-event';

const EVENT_KINDS: Record<string, StreamEventKind> = {
  typing: 'typing',
  'participant.joined': 'participant-joined',
  'participant.left': 'participant-left',
  'transfer.succeeded': 'transfer-succeeded',
  'transfer.failed': 'transfer-failed',
  'chat.ended': 'chat-ended',
  'message.delivered': 'message-delivered',
  'message.read': 'message-read',
};

export type ParticipantRole = 'CUSTOMER' | 'AGENT' | 'SYSTEM' | 'CUSTOM_BOT';
export type MessageVisibility = 'CUSTOMER' | 'AGENT' | 'ALL';

/** One item of a contact's chat, as the bridge reads it off the stream. */
export interface ConnectStreamEvent {
  /** The item's Id: stable, the key for ClientTokens and for the outbound message id. */
  id: string;
  kind: StreamEventKind;
  contentType: string;
  content?: string;
  participantRole?: ParticipantRole;
  displayName?: string;
  /** Absent when the notification did not carry a MessageVisibility attribute. */
  visibility?: MessageVisibility;
  initialContactId: string;
  contactId: string;
  absoluteTime: string;
  attachments: TranscriptItem['attachments'];
}

/** The notification is not a Connect stream item; answered 200 (SNS must not retry) and counted. */
export class InvalidStreamEventError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'InvalidStreamEventError';
  }
}

const role = z.enum(['CUSTOMER', 'AGENT', 'SYSTEM', 'CUSTOM_BOT']);
const item = z.object({
  Id: z.string().min(1),
  Type: z.enum(['MESSAGE', 'EVENT', 'ATTACHMENT']),
  ContentType: z.string().min(1),
  Content: z.string().optional(),
  ParticipantRole: role.optional(),
  DisplayName: z.string().optional(),
  AbsoluteTime: z.string().min(1),
  InitialContactId: z.string().min(1).optional(),
  ContactId: z.string().min(1).optional(),
  Attachments: z
    .array(
      z.object({
        AttachmentId: z.string().min(1),
        AttachmentName: z.string(),
        ContentType: z.string(),
        Status: z.string().optional(),
      }),
    )
    .optional(),
});

/**
 * Reads a Notification's Message (the item as Connect writes it) with its message attributes.
 * SNS signs the Message but not the attributes, so every fact the body holds (ids, role) is
 * taken from the body; only MessageVisibility, which exists only as an attribute, comes from
 * the attributes (a replayed notification is stopped by deduplication on its MessageId).
 */
export function parseStreamEvent(
  message: string,
  attributes: Record<string, string>,
): ConnectStreamEvent {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    throw new InvalidStreamEventError('the Message is not JSON');
  }
  const parsed = item.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidStreamEventError(`${issue.path.join('.') || 'Message'}: ${issue.message}`);
  }
  const data = parsed.data;
  const initialContactId = data.InitialContactId ?? attributes.InitialContactId;
  const contactId = data.ContactId ?? attributes.ContactId ?? initialContactId;
  if (!initialContactId || !contactId) {
    throw new InvalidStreamEventError('the item names no InitialContactId');
  }
  const visibility = z.enum(['CUSTOMER', 'AGENT', 'ALL']).safeParse(attributes.MessageVisibility);
  const participantRole = role.safeParse(data.ParticipantRole ?? attributes.ParticipantRole);
  return {
    id: data.Id,
    kind: kindOf(data.Type, data.ContentType),
    contentType: data.ContentType,
    content: data.Content,
    participantRole: participantRole.success ? participantRole.data : undefined,
    displayName: data.DisplayName,
    visibility: visibility.success ? visibility.data : undefined,
    initialContactId,
    contactId,
    absoluteTime: data.AbsoluteTime,
    attachments: (data.Attachments ?? []).map((attachment) => ({
      attachmentId: attachment.AttachmentId,
      name: attachment.AttachmentName,
      contentType: attachment.ContentType,
      status: attachment.Status,
    })),
  };
}

/**
 * An item read from the customer's transcript (GetTranscript), as the stream would have carried
 * it: the customer's view holds no AGENT-only items, so its visibility is CUSTOMER.
 */
export function streamEventOfTranscript(
  item: TranscriptItem,
  initialContactId: string,
  contactId: string,
): ConnectStreamEvent {
  return {
    id: item.id,
    kind: kindOf(item.type, item.contentType),
    contentType: item.contentType,
    content: item.content,
    participantRole: item.participantRole,
    displayName: item.displayName,
    visibility: 'CUSTOMER',
    initialContactId,
    contactId: item.contactId ?? contactId,
    absoluteTime: item.absoluteTime,
    attachments: item.attachments,
  };
}

function kindOf(type: 'MESSAGE' | 'EVENT' | 'ATTACHMENT', contentType: string): StreamEventKind {
  if (type === 'MESSAGE') return 'message';
  if (type === 'ATTACHMENT') return 'attachment';
  return contentType.startsWith(EVENT_PREFIX)
    ? (EVENT_KINDS[contentType.slice(EVENT_PREFIX.length)] ?? 'other-event')
    : 'other-event';
}

/**
 * Whether the customer should see this item: a message or attachment meant for the customer
 * (MessageVisibility CUSTOMER or ALL) that the customer did not write. Without this, the
 * customer gets their own words back; SYSTEM and bot messages go through. An item without a
 * visibility is not forwarded: guessing could leak an agent-only note.
 */
export function isForCustomer(event: ConnectStreamEvent): boolean {
  if (event.kind !== 'message' && event.kind !== 'attachment') return false;
  if (event.visibility !== 'CUSTOMER' && event.visibility !== 'ALL') return false;
  return event.participantRole !== 'CUSTOMER';
}
