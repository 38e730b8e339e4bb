import type { Conversation, ConversationState, ConversationView } from './conversation';
import { CorruptConversationError } from './conversation-errors';
import type { TokenPair } from './token-pair';

/**
 * Field names of the record hash. Short names and values of at most 64 bytes keep the hash in
 * Redis' compact listpack encoding (a single longer value converts it to a hashtable, which
 * costs about 1 KB more); that is why the tokens live in a key of their own.
 */
export const RECORD = {
  channel: 'ch',
  customerAddress: 'cu',
  businessAddress: 'bu',
  displayName: 'dn',
  state: 'st',
  initialContactId: 'ic',
  contactId: 'ci',
  participantId: 'pi',
  connectionExpiresAt: 'cx',
  lastEndedInitialContactId: 'li',
  endedAt: 'ea',
  endItemPending: 'ep',
  createdAt: 'ca',
  updatedAt: 'ua',
} as const;

/** One empty field `k:<ContactId>` per ContactId of the live contact (see README.md). */
export const CONTACT_FIELD_PREFIX = 'k:';

/** Fields of the tokens hash the previous version wrote (`{csb}:conv:<id>:tokens`). */
export const TOKENS = { participantToken: 'p', connectionToken: 'c' } as const;

export function contactIdsIn(record: Record<string, string>): string[] {
  return Object.keys(record)
    .filter((field) => field.startsWith(CONTACT_FIELD_PREFIX))
    .map((field) => field.slice(CONTACT_FIELD_PREFIX.length));
}

/** The additional authenticated data the sealed token pair is bound to: its conversation. */
export function credentialsContext(conversationId: string): string {
  return `conversation:${conversationId}:credentials`;
}

/** The additional authenticated data of a token the previous version sealed on its own. */
export function tokenContext(conversationId: string, token: keyof typeof TOKENS): string {
  return `conversation:${conversationId}:${token}`;
}

/**
 * Builds a Conversation from the raw record; `openTokens` reads and decrypts the stored tokens,
 * which happens only for an active conversation.
 */
export function readConversation(
  id: string,
  record: Record<string, string>,
  openTokens: () => TokenPair | undefined,
): Conversation {
  const view = readConversationView(id, record);
  if (view.state === 'ended') return view;
  const tokens = openTokens();
  if (!tokens) throw new CorruptConversationError(id, 'the tokens are missing');
  return { ...view, ...tokens };
}

/** The conversation of the raw record without its tokens: what support may see. */
export function readConversationView(id: string, record: Record<string, string>): ConversationView {
  const text = (field: keyof typeof RECORD): string => {
    const value = record[RECORD[field]];
    if (!value) throw new CorruptConversationError(id, `${field} is missing`);
    return value;
  };
  const optionalText = (field: keyof typeof RECORD): string | undefined =>
    record[RECORD[field]] || undefined;
  const epochMs = (field: keyof typeof RECORD): number => {
    const value = Number(text(field));
    if (!Number.isSafeInteger(value))
      throw new CorruptConversationError(id, `${field} is not a time`);
    return value;
  };

  const lastEndedInitialContactId = optionalText('lastEndedInitialContactId');
  const displayName = optionalText('displayName');
  const base = {
    id,
    channel: text('channel'),
    customerAddress: text('customerAddress'),
    businessAddress: text('businessAddress'),
    ...(displayName !== undefined && { displayName }),
    initialContactId: text('initialContactId'),
    contactId: text('contactId'),
    contactIds: contactIdsIn(record),
    participantId: text('participantId'),
    ...(lastEndedInitialContactId !== undefined && { lastEndedInitialContactId }),
    ...(record[RECORD.endedAt] !== undefined && { endedAt: epochMs('endedAt') }),
    ...(record[RECORD.endItemPending] === '1' && { endItemPending: true as const }),
    createdAt: epochMs('createdAt'),
    updatedAt: epochMs('updatedAt'),
  };

  const state = text('state') as ConversationState;
  if (state === 'ended') {
    return {
      ...base,
      state,
      lastEndedInitialContactId: text('lastEndedInitialContactId'),
      endedAt: epochMs('endedAt'),
    };
  }
  if (state !== 'active') throw new CorruptConversationError(id, 'state is unknown');
  return { ...base, state, connectionExpiresAt: epochMs('connectionExpiresAt') };
}
