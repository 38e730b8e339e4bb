import { createHash } from 'node:crypto';

/** What identifies a conversation: one customer talking to one business number on one channel. */
export interface ConversationKey {
  channel: string;
  customerAddress: string;
  businessAddress: string;
}

export type ConversationState = 'active' | 'ended';

interface ConversationBase extends ConversationKey {
  id: string;
  displayName?: string;
  initialContactId: string;
  /** The live ContactId; it changes on transfer while initialContactId stays. */
  contactId: string;
  /** Every ContactId of the live contact, indexed for lookups (empty once ended). */
  contactIds: string[];
  participantId: string;
  /** The contact that ended last, for starting a persistent chat from it. */
  lastEndedInitialContactId?: string;
  /** When lastEndedInitialContactId ended (epoch ms). */
  endedAt?: number;
  /**
   * lastEndedInitialContactId was found over (Connect refused its participant) before its
   * chat-ended item arrived: that item is still to come, with what preceded it.
   */
  endItemPending?: true;
  createdAt: number;
  updatedAt: number;
}

export interface ActiveConversation extends ConversationBase {
  state: 'active';
  participantToken: string;
  connectionToken: string;
  connectionExpiresAt: number;
}

/** An ended conversation keeps its addresses and contact ids; its tokens are gone. */
export interface EndedConversation extends ConversationBase {
  state: 'ended';
  lastEndedInitialContactId: string;
  endedAt: number;
}

export type Conversation = ActiveConversation | EndedConversation;

/** A conversation as support tools may show it: everything but the tokens. */
export type ConversationView =
  Omit<ActiveConversation, 'participantToken' | 'connectionToken'> | EndedConversation;

/** What `saveContact` records once a contact is started and connected. */
export interface ContactDetails {
  initialContactId: string;
  contactId: string;
  participantId: string;
  participantToken: string;
  connectionToken: string;
  connectionExpiresAt: number;
  displayName?: string;
}

/**
 * The conversation id: the first 32 hex digits of SHA-256 over the three parts, so every
 * replica derives the same id. JSON keeps the parts apart whatever characters they hold.
 */
export function conversationIdOf(key: ConversationKey): string {
  for (const part of ['channel', 'customerAddress', 'businessAddress'] as const) {
    if (!key[part]) throw new Error(`a conversation key needs a ${part}`);
  }
  return createHash('sha256')
    .update(JSON.stringify([key.channel, key.customerAddress, key.businessAddress]))
    .digest('hex')
    .slice(0, 32);
}
