import { z } from 'zod';
import type { InboundMessage } from '../../relay';
import { type DeliveryStatus, InvalidWebhookError, type WebhookContent } from '../channel-adapter';
import { readMessageContent } from './whatsapp-message-content';

export const WHATSAPP_CHANNEL = 'meta:whatsapp';

/** A WhatsApp user's number as Meta writes it: digits, country code first, no `+`. */
const WA_ID = z.string().regex(/^\d{5,20}$/);
/** Graph object ids (phone number ids) are digits. */
export const PHONE_NUMBER_ID = /^\d{1,32}$/;

const webhookBody = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.object({ changes: z.array(z.object({ field: z.string(), value: z.unknown() })) }),
  ),
});

const messagesValue = z.object({
  metadata: z.object({ phone_number_id: z.string().regex(PHONE_NUMBER_ID) }),
  contacts: z.array(z.unknown()).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
});

const contactProfile = z.object({
  wa_id: z.string(),
  profile: z.object({ name: z.string().min(1) }),
});

const messageHead = z.looseObject({
  from: WA_ID,
  id: z.string().min(1).max(256),
  type: z.string().min(1),
});

const graphError = z.object({
  code: z.number(),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.object({ details: z.string().optional() }).optional(),
});

const statusUpdate = z.object({
  id: z.string().min(1).max(256),
  status: z.string().min(1).max(64),
  recipient_id: WA_ID,
  errors: z.array(graphError).optional(),
});

/** Called with why a part of a webhook was left out; the reason names no customer data. */
export type SkipReporter = (reason: string) => void;

/** What every message and status of one `messages` change shares. */
interface ChangeContext {
  phoneNumberId: string;
  profileNames: Map<string, string>;
  receivedAt: number;
  skip: SkipReporter;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue.path.join('.') || 'body'}: ${issue.message}`;
}

/**
 * The messages and delivery statuses of a WhatsApp Cloud API webhook, across every entry and
 * every `messages` change (one per business phone number). A body that is not a WhatsApp
 * Business Account webhook throws InvalidWebhookError. Inside a valid body nothing fails the
 * whole batch, since Meta would redeliver all of it for days: a message of an unknown or
 * unreadable type becomes a notice for the agent, and a part that cannot be addressed (no
 * phone number id, no sender, no message id) is left out and reported to `skip`.
 */
export function parseWhatsAppWebhook(
  body: unknown,
  receivedAt: number,
  skip: SkipReporter,
): WebhookContent {
  const parsed = webhookBody.safeParse(body);
  if (!parsed.success) throw new InvalidWebhookError(firstIssue(parsed.error));
  const content: WebhookContent = { messages: [], statuses: [] };
  for (const { changes } of parsed.data.entry) {
    for (const change of changes) {
      if (change.field !== 'messages') continue;
      const read = readChange(change.value, receivedAt, skip);
      content.messages.push(...read.messages);
      content.statuses.push(...read.statuses);
    }
  }
  return content;
}

function readChange(value: unknown, receivedAt: number, skip: SkipReporter): WebhookContent {
  const parsed = messagesValue.safeParse(value);
  if (!parsed.success) {
    skip(`a messages change: ${firstIssue(parsed.error)}`);
    return { messages: [], statuses: [] };
  }
  const { metadata, contacts = [], messages = [], statuses = [] } = parsed.data;
  const context: ChangeContext = {
    phoneNumberId: metadata.phone_number_id,
    profileNames: profileNames(contacts),
    receivedAt,
    skip,
  };
  return {
    messages: messages.flatMap((raw) => readMessage(raw, context)),
    statuses: statuses.flatMap((raw) => readStatus(raw, context)),
  };
}

/** The senders' WhatsApp profile names by wa_id. */
function profileNames(contacts: unknown[]): Map<string, string> {
  return new Map(
    contacts.flatMap((contact) => {
      const parsed = contactProfile.safeParse(contact);
      return parsed.success ? [[parsed.data.wa_id, parsed.data.profile.name] as const] : [];
    }),
  );
}

function readMessage(raw: unknown, context: ChangeContext): InboundMessage[] {
  const parsed = messageHead.safeParse(raw);
  if (!parsed.success) {
    context.skip(`a message: ${firstIssue(parsed.error)}`);
    return [];
  }
  const { from, id, type } = parsed.data;
  const displayName = context.profileNames.get(from);
  return [
    {
      channel: WHATSAPP_CHANNEL,
      providerMessageId: id,
      customerAddress: `+${from}`,
      businessAddress: context.phoneNumberId,
      ...(displayName ? { displayName } : {}),
      ...readMessageContent(type, parsed.data[type]),
      receivedAt: context.receivedAt,
    },
  ];
}

function readStatus(raw: unknown, context: ChangeContext): DeliveryStatus[] {
  const parsed = statusUpdate.safeParse(raw);
  if (!parsed.success) {
    context.skip(`a status: ${firstIssue(parsed.error)}`);
    return [];
  }
  const { id, status, recipient_id, errors = [] } = parsed.data;
  const reason = errors.map(describeError).join('; ');
  return [
    {
      channel: WHATSAPP_CHANNEL,
      customerAddress: `+${recipient_id}`,
      businessAddress: context.phoneNumberId,
      providerMessageId: id,
      status: status.toLowerCase(),
      ...(reason ? { reason } : {}),
    },
  ];
}

function describeError({ code, title, message, error_data }: z.output<typeof graphError>): string {
  const details = error_data?.details;
  return `WhatsApp error ${code}: ${title ?? message ?? 'no description'}${details ? ` — ${details}` : ''}`;
}
