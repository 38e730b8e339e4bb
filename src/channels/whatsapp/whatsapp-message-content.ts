import { z } from 'zod';
import type { CustomerFile } from '../../conversations';

/** What one WhatsApp message says, as the relay carries it to the agent. */
export interface MessageContent {
  text?: string;
  attachments: CustomerFile[];
}

/** Graph media ids are digits; letters are tolerated, nothing that could change a URL's path. */
export const MEDIA_ID = /^[A-Za-z0-9]{1,128}$/;

const SHOWN_TYPE = /^[a-z0-9_]{1,40}$/;

/** Reads the object a message carries under its type's name (`message.image`, `message.text`…). */
type ContentReader = (payload: unknown) => MessageContent | undefined;

const textOnly = (text: string): MessageContent => ({ text, attachments: [] });

/** The notice the agent gets for a message that has no readable form here. */
function unreadableNotice(type: string): MessageContent {
  const shown = SHOWN_TYPE.test(type) ? type : 'unknown';
  return textOnly(
    `The customer sent a WhatsApp message that cannot be shown here (type: ${shown}).`,
  );
}

function reader<S extends z.ZodType>(
  schema: S,
  toContent: (payload: z.output<S>) => MessageContent,
): ContentReader {
  return (payload) => {
    const parsed = schema.safeParse(payload);
    return parsed.success ? toContent(parsed.data) : undefined;
  };
}

const media = z.object({
  id: z.string().regex(MEDIA_ID),
  mime_type: z.string().min(1).max(255),
  caption: z.string().min(1).optional(),
  filename: z.string().min(1).max(255).optional(),
});

const readMedia = reader(media, ({ id, mime_type, caption, filename }) => ({
  ...(caption ? { text: caption } : {}),
  attachments: [{ source: id, contentType: mime_type, ...(filename ? { name: filename } : {}) }],
}));

const choice = z.object({ title: z.string().min(1), description: z.string().optional() });
const interactiveReply = z.discriminatedUnion('type', [
  z.object({ type: z.literal('button_reply'), button_reply: choice }),
  z.object({ type: z.literal('list_reply'), list_reply: choice }),
]);

function describeReply(reply: z.output<typeof interactiveReply>): MessageContent {
  const { title, description } =
    reply.type === 'button_reply' ? reply.button_reply : reply.list_reply;
  return textOnly(description ? `${title} — ${description}` : title);
}

const location = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  name: z.string().optional(),
  address: z.string().optional(),
});

function describeLocation({
  latitude,
  longitude,
  name,
  address,
}: z.output<typeof location>): MessageContent {
  const place = [name, address].filter(Boolean).join(', ');
  const map = `https://www.google.com/maps/search/?api=1&query=${latitude},${longitude}`;
  return textOnly(
    `Shared a location: ${place ? `${place} ` : ''}(${latitude}, ${longitude}) ${map}`,
  );
}

const reaction = z.object({ emoji: z.string().min(1).optional() });

const contactCard = z.object({
  name: z.object({ formatted_name: z.string().min(1) }).optional(),
  phones: z.array(z.object({ phone: z.string().min(1) }).partial()).optional(),
  emails: z.array(z.object({ email: z.string().min(1) }).partial()).optional(),
});

function describeCard({ name, phones = [], emails = [] }: z.output<typeof contactCard>): string {
  const ways = [...phones.map(({ phone }) => phone), ...emails.map(({ email }) => email)];
  const reachable = ways.filter(Boolean).join(', ');
  const who = name?.formatted_name ?? 'a contact without a name';
  return reachable ? `${who} (${reachable})` : who;
}

function describeCards(cards: z.output<typeof contactCard>[]): MessageContent {
  const what = cards.length === 1 ? 'a contact' : `${cards.length} contacts`;
  return textOnly(`Shared ${what}: ${cards.map(describeCard).join('; ')}`);
}

const READERS = new Map<string, ContentReader>([
  ['text', reader(z.object({ body: z.string().min(1) }), ({ body }) => textOnly(body))],
  ['image', readMedia],
  ['document', readMedia],
  ['audio', readMedia],
  ['video', readMedia],
  ['sticker', readMedia],
  ['interactive', reader(interactiveReply, describeReply)],
  // A tap on a template's quick-reply button.
  ['button', reader(z.object({ text: z.string().min(1) }), ({ text }) => textOnly(text))],
  ['location', reader(location, describeLocation)],
  [
    'reaction',
    reader(reaction, ({ emoji }) =>
      // Meta leaves the emoji out when the customer takes a reaction back.
      textOnly(emoji ? `Reacted ${emoji} to a message` : 'Removed a reaction from a message'),
    ),
  ],
  ['contacts', reader(z.array(contactCard).min(1), describeCards)],
  ['unsupported', reader(z.object({ type: z.string() }), ({ type }) => unreadableNotice(type))],
]);

/**
 * The text and files of a message of `type` whose content is `payload`. Every type has an
 * answer: one that is unknown, or whose content does not read as documented, becomes a notice
 * for the agent naming the type.
 */
export function readMessageContent(type: string, payload: unknown): MessageContent {
  return READERS.get(type)?.(payload) ?? unreadableNotice(type);
}
