import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config';
import {
  ConnectAccessDeniedError,
  ConnectGateway,
  ConnectRejectedError,
  type StartedChat,
} from '../connect';
import type { ActiveConversation, Conversation, ConversationKey } from './conversation';
import { ConversationStore } from './conversation-store';
import { ConversationTrace } from './conversation-trace';
import { TokenDecryptionError } from './token-cipher';
import { splitText } from './split-text';

/** A file a customer sent, as the channel names it. */
export interface CustomerFile {
  /** Where the channel fetches it: a URL, or the provider's media id. */
  source: string;
  contentType: string;
  name?: string;
}

/** A customer's file as fetched, or why it cannot be had. */
export interface FetchedFile {
  content?: Buffer;
  contentType?: string;
  /** Why the file cannot be delivered, in words for the agent; set when `content` is not. */
  refusal?: string;
}

/**
 * Fetches a customer's file through its channel. A passing failure (network, 5xx) throws so the
 * relay retries; a file that can never be had comes back with a `refusal`.
 */
export type FileDownloader = (file: CustomerFile) => Promise<FetchedFile>;

/** What the relay hands over: one customer message, already stored and in its turn. */
export interface CustomerMessage extends ConversationKey {
  /** `<provider>:<medium>`: `twilio:sms`, `twilio:whatsapp`, `meta:whatsapp`, `generic:<name>`. */
  channel: string;
  /** The provider's stable id of the message: the key for deduplication and ClientTokens. */
  providerMessageId: string;
  displayName?: string;
  text?: string;
  attachments: CustomerFile[];
}

/** A message being delivered: the relay's id for it (stable across retries) and its content. */
interface Delivery {
  messageId: string;
  message: CustomerMessage;
  download: FileDownloader;
}

const TEXT_LIMIT = 1024;
const START_LOCK_MS = 30_000;
const DAY_MS = 24 * 60 * 60 * 1000;
const PARTICIPANT_REFUSED = 'the participant was refused: the contact is over';

/** ClientTokens derived from stable ids: a retry never doubles anything at Connect. */
const clientToken = (...parts: string[]) =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40);

/**
 * The customer → Connect half of a conversation: opens a contact when there is none
 * (StartChatContact → StartContactStreaming → CreateParticipantConnection, one at a time per
 * conversation), delivers text in ≤ 1024-character parts and attachments, refreshes credentials
 * on AccessDenied and starts a new contact when the old one is over.
 */
@Injectable()
export class ConversationService {
  private readonly logger = new Logger(ConversationService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly gateway: ConnectGateway,
    private readonly store: ConversationStore,
    private readonly trace: ConversationTrace,
  ) {}

  async deliver(
    conversationId: string,
    messageId: string,
    message: CustomerMessage,
    download: FileDownloader,
  ): Promise<void> {
    const delivery: Delivery = { messageId, message, download };
    let conversation = await this.liveConversation(conversationId, messageId, message);
    const parts = splitText(message.text ?? '', TEXT_LIMIT);
    for (const [index, content] of parts.entries()) {
      conversation = await this.sendText(conversation, delivery, {
        content,
        clientToken: clientToken(messageId, 'text', String(index)),
        part: index + 1,
        parts: parts.length,
      });
    }
    for (const [index, attachment] of message.attachments.entries()) {
      conversation = await this.sendAttachment(conversation, delivery, attachment, {
        clientToken: clientToken(messageId, 'attachment', String(index)),
      });
    }
  }

  async recordRetry(
    conversationId: string,
    message: CustomerMessage,
    attempt: number,
    reason: string,
  ) {
    await this.trace.append(conversationId, {
      event: 'retried',
      direction: 'inbound',
      providerMessageId: message.providerMessageId,
      attempt,
      reason,
    });
  }

  async recordFailure(conversationId: string, message: CustomerMessage, reason: string) {
    await this.trace.append(conversationId, {
      event: 'failed',
      direction: 'inbound',
      providerMessageId: message.providerMessageId,
      reason,
    });
  }

  private async liveConversation(
    conversationId: string,
    messageId: string,
    message: CustomerMessage,
  ): Promise<ActiveConversation> {
    const current = await this.readConversation(conversationId);
    if (current?.state === 'active') return current;
    // One contact per conversation, however many first messages arrive at once on however many
    // processes: whoever holds the lock starts it, the others find it started.
    return this.store.withLock(conversationId, START_LOCK_MS, async () => {
      const latest = await this.readConversation(conversationId);
      if (latest?.state === 'active') return latest;
      return this.startContact(conversationId, messageId, message, latest);
    });
  }

  /**
   * The conversation, or its ended form when its tokens can no longer be decrypted (the
   * TOKEN_ENCRYPTION_KEY changed): without them the contact cannot be used, so it is treated
   * as over and the next step starts a new one, instead of failing every message for good.
   */
  async readConversation(conversationId: string): Promise<Conversation | undefined> {
    try {
      return await this.store.get(conversationId);
    } catch (error) {
      if (!(error instanceof TokenDecryptionError)) throw error;
      this.logger.warn(
        { conversationId, reason: error.message },
        'stored tokens cannot be decrypted; the contact is treated as over',
      );
      await this.store.markEnded(conversationId, {
        graceSeconds: this.config.chat.endedGraceSeconds,
      });
      await this.trace.append(conversationId, {
        event: 'contact-ended',
        reason: 'the stored tokens cannot be decrypted with TOKEN_ENCRYPTION_KEY',
      });
      return this.store.get(conversationId);
    }
  }

  private async startContact(
    conversationId: string,
    messageId: string,
    message: CustomerMessage,
    previous: Conversation | undefined,
  ): Promise<ActiveConversation> {
    const continueFrom = this.persistentSource(previous);
    const base = clientToken(conversationId, messageId, previous?.lastEndedInitialContactId ?? '');
    let chat = await this.startChat(conversationId, message, base, continueFrom);
    let connection;
    try {
      connection = await this.gateway.connectParticipant(chat.participantToken);
    } catch (error) {
      // The same ClientToken answers the same contact; if a crash left it unconnected past the
      // connect window it is over, and only a new token gets a new one.
      if (!(error instanceof ConnectAccessDeniedError)) throw error;
      chat = await this.startChat(
        conversationId,
        message,
        clientToken(base, 'again'),
        continueFrom,
      );
      connection = await this.gateway.connectParticipant(chat.participantToken);
    }
    const key = keyOf(message);
    await this.store.saveContact(conversationId, key, {
      initialContactId: chat.contactId,
      contactId: chat.contactId,
      participantId: chat.participantId,
      participantToken: chat.participantToken,
      connectionToken: connection.connectionToken,
      connectionExpiresAt: connection.expiresAt,
      displayName: message.displayName,
    });
    await this.trace.append(conversationId, {
      event: 'contact-started',
      contactId: chat.contactId,
      providerMessageId: message.providerMessageId,
      ...(continueFrom ? { reason: `persistent chat from ${continueFrom}` } : {}),
    });
    const saved = await this.store.get(conversationId);
    if (saved?.state !== 'active') throw new Error(`conversation ${conversationId} was not saved`);
    return saved;
  }

  private async startChat(
    conversationId: string,
    message: CustomerMessage,
    token: string,
    continueFrom: string | undefined,
  ): Promise<StartedChat> {
    const chat = await this.gateway.startChat({
      displayName: message.displayName ?? message.customerAddress,
      attributes: {
        channel: message.channel,
        customerAddress: message.customerAddress,
        businessAddress: message.businessAddress,
      },
      clientToken: token,
      persistentFromContactId: continueFrom,
      chatDurationMinutes: this.config.chat.durationMinutes,
    });
    await this.store.markStarting(conversationId, chat.contactId);
    await this.gateway.startStreaming(chat.contactId, clientToken(chat.contactId, 'streaming'));
    return chat;
  }

  private persistentSource(previous: Conversation | undefined): string | undefined {
    const days = this.config.chat.persistentChatDays;
    if (days === 0 || previous?.state !== 'ended') return undefined;
    return Date.now() - previous.endedAt <= days * DAY_MS
      ? previous.lastEndedInitialContactId
      : undefined;
  }

  private async sendText(
    conversation: ActiveConversation,
    delivery: Delivery,
    text: { content: string; clientToken: string; part: number; parts: number },
  ): Promise<ActiveConversation> {
    const { message } = delivery;
    const send = (live: ActiveConversation) =>
      this.gateway.sendMessage(live.connectionToken, {
        content: text.content,
        contentType: 'text/plain',
        clientToken: text.clientToken,
      });
    const { live, result } = await this.withCredentials(conversation, delivery, send);
    await this.trace.append(live.id, {
      event: 'sent',
      direction: 'inbound',
      providerMessageId: message.providerMessageId,
      connectMessageId: result.messageId,
      contactId: live.contactId,
      part: text.part,
      parts: text.parts,
    });
    return live;
  }

  private async sendAttachment(
    conversation: ActiveConversation,
    delivery: Delivery,
    attachment: CustomerFile,
    ids: { clientToken: string },
  ): Promise<ActiveConversation> {
    const { message } = delivery;
    const name = attachment.name ?? defaultName(attachment.contentType);
    const fetched = await delivery.download(attachment);
    let refusal = fetched.refusal;
    // The upload may refresh credentials or move to a new contact before Connect refuses the
    // file: the notice must go to the conversation as it is then, not as it was.
    let current = conversation;
    if (fetched.content) {
      const content = fetched.content;
      try {
        const { live, result } = await this.withCredentials(conversation, delivery, (latest) => {
          current = latest;
          return this.gateway.uploadAttachment(latest.connectionToken, {
            name,
            contentType: fetched.contentType ?? attachment.contentType,
            content,
            clientToken: ids.clientToken,
          });
        });
        await this.trace.append(live.id, {
          event: 'sent',
          direction: 'inbound',
          providerMessageId: message.providerMessageId,
          connectMessageId: result.attachmentId,
          contactId: live.contactId,
        });
        return live;
      } catch (error) {
        if (!(error instanceof ConnectRejectedError)) throw error;
        refusal = error.reason;
      }
    }
    // Never a silent drop: the agent learns what the customer tried to send.
    this.logger.log({ reason: refusal }, 'attachment not deliverable; telling the agent');
    const what = `${name.slice(0, 100)}, ${attachment.contentType.slice(0, 100)}`;
    const why = (refusal ?? 'unknown reason').slice(0, 300);
    return this.sendText(current, delivery, {
      content: `The customer sent a file that could not be delivered (${what}): ${why}`,
      clientToken: clientToken(ids.clientToken, 'notice'),
      part: 1,
      parts: 1,
    });
  }

  /**
   * Runs `call` with the conversation's connection token. AccessDenied means the token expired
   * or the contact is over: refresh with the ParticipantToken, and if that is refused too,
   * start a new contact and run `call` there.
   */
  private async withCredentials<T>(
    conversation: ActiveConversation,
    delivery: Delivery,
    call: (live: ActiveConversation) => Promise<T>,
  ): Promise<{ live: ActiveConversation; result: T }> {
    try {
      return { live: conversation, result: await call(conversation) };
    } catch (error) {
      if (!(error instanceof ConnectAccessDeniedError)) throw error;
    }
    const live = await this.refreshOrRestart(conversation, delivery);
    return { live, result: await call(live) };
  }

  /** Whether the conversation's contact is being started: noted, but not recorded yet. */
  async isStarting(conversationId: string, initialContactId: string): Promise<boolean> {
    const lookup = await this.store.lookUpStreamContact(initialContactId, initialContactId);
    return lookup.startingConversationId === conversationId;
  }

  /**
   * Closes the conversation's contact when Connect says the chat ended; false when it was not
   * live or another contact has started since (an old contact's end must not end a new one).
   */
  async endContact(conversationId: string, initialContactId: string): Promise<boolean> {
    const ended = await this.closeContact(
      conversationId,
      initialContactId,
      initialContactId,
      'the chat ended',
    );
    if (!ended) await this.store.endItemArrived(conversationId, initialContactId);
    return ended;
  }

  /** Ends the live contact on an operator's request (see `disconnectContact`). */
  async endByOperator(conversationId: string): Promise<'ended' | 'not-active'> {
    return this.disconnectContact(conversationId, 'ended by an operator');
  }

  /**
   * Ends the live contact from the bridge's side: the customer participant disconnects
   * (Connect then ends the chat), and the conversation closes at once, so the customer's next
   * message starts a new contact. 'not-active' when there is no live contact.
   */
  async disconnectContact(conversationId: string, reason: string): Promise<'ended' | 'not-active'> {
    const conversation = await this.readConversation(conversationId);
    if (conversation?.state !== 'active') return 'not-active';
    const token = clientToken(conversation.initialContactId, conversation.participantId, 'end');
    try {
      await this.gateway.disconnect(conversation.connectionToken, token);
    } catch (error) {
      if (!(error instanceof ConnectAccessDeniedError)) throw error;
      // An expired connection is renewed; a refused participant means the contact is over already.
      const refreshed = await this.refreshCredentials(conversation);
      if (refreshed) await this.gateway.disconnect(refreshed.connectionToken, token);
    }
    await this.closeContact(
      conversationId,
      conversation.initialContactId,
      conversation.contactId,
      reason,
    );
    return 'ended';
  }

  /**
   * New connection credentials for the live contact before the current ones expire. 'ended'
   * when Connect refuses the participant: the contact is over, and the conversation closes.
   */
  async renewCredentials(conversationId: string): Promise<'refreshed' | 'ended' | 'not-active'> {
    const conversation = await this.readConversation(conversationId);
    if (conversation?.state !== 'active') return 'not-active';
    if (await this.refreshCredentials(conversation)) return 'refreshed';
    await this.closeContact(
      conversationId,
      conversation.initialContactId,
      conversation.contactId,
      PARTICIPANT_REFUSED,
    );
    return 'ended';
  }

  /**
   * A download link for a file an agent sent on the conversation's live contact, refreshing
   * the credentials once if they were refused; undefined when the contact is over (its
   * files can no longer be fetched).
   */
  async attachmentLink(conversationId: string, attachmentId: string) {
    return this.asCustomer(conversationId, (token) =>
      this.gateway.attachmentUrl(token, attachmentId),
    );
  }

  /**
   * Up to `count` items of the contact `contactId` before its item `itemId`, as the customer
   * sees them; undefined once that contact is no longer the conversation's live one.
   */
  async itemsBefore(conversationId: string, contactId: string, itemId: string, count: number) {
    return this.asCustomer(
      conversationId,
      async (token, conversation) => ({
        initialContactId: conversation.initialContactId,
        items: await this.gateway.itemsBefore(token, itemId, count),
      }),
      (conversation) => conversation.contactIds.includes(contactId),
    );
  }

  /**
   * A Participant Service call with the customer's credentials of the live contact, renewed once
   * if Connect refuses them; undefined when there is no live contact or Connect refuses anew.
   */
  private async asCustomer<T>(
    conversationId: string,
    call: (connectionToken: string, conversation: ActiveConversation) => Promise<T>,
    applies: (conversation: ActiveConversation) => boolean = () => true,
  ): Promise<T | undefined> {
    const conversation = await this.readConversation(conversationId);
    if (conversation?.state !== 'active' || !applies(conversation)) return undefined;
    try {
      return await call(conversation.connectionToken, conversation);
    } catch (error) {
      if (!(error instanceof ConnectAccessDeniedError)) throw error;
    }
    const refreshed = await this.refreshCredentials(conversation);
    return refreshed && call(refreshed.connectionToken, refreshed);
  }

  /** New connection credentials from the ParticipantToken; undefined when Connect refuses them. */
  private async refreshCredentials(
    conversation: ActiveConversation,
  ): Promise<ActiveConversation | undefined> {
    try {
      const connection = await this.gateway.connectParticipant(conversation.participantToken);
      await this.store.updateCredentials(conversation.id, {
        participantId: conversation.participantId,
        participantToken: conversation.participantToken,
        connectionToken: connection.connectionToken,
        connectionExpiresAt: connection.expiresAt,
      });
      await this.trace.append(conversation.id, {
        event: 'credentials-refreshed',
        contactId: conversation.contactId,
      });
      return {
        ...conversation,
        connectionToken: connection.connectionToken,
        connectionExpiresAt: connection.expiresAt,
      };
    } catch (error) {
      if (!(error instanceof ConnectAccessDeniedError)) throw error;
      return undefined;
    }
  }

  private async refreshOrRestart(
    conversation: ActiveConversation,
    delivery: Delivery,
  ): Promise<ActiveConversation> {
    const refreshed = await this.refreshCredentials(conversation);
    if (refreshed) return refreshed;
    await this.closeContact(
      conversation.id,
      conversation.initialContactId,
      conversation.contactId,
      PARTICIPANT_REFUSED,
    );
    // The same relay message id as a first start: a retry after a partial restart (the new
    // contact started, then a later step failed) finds the same new contact, not a third one.
    return this.liveConversation(conversation.id, delivery.messageId, delivery.message);
  }

  /**
   * Marks the contact ended and traces why; false when it was not live or another contact has
   * started since (an old contact's end must not end a new one). Not ended here means another
   * path closed it first, and its trace says so.
   */
  private async closeContact(
    conversationId: string,
    initialContactId: string,
    contactId: string,
    reason: string,
  ): Promise<boolean> {
    const ended = await this.store.markEnded(conversationId, {
      graceSeconds: this.config.chat.endedGraceSeconds,
      initialContactId,
      // Connect ended it without the bridge seeing its chat-ended item: the item comes late.
      ...(reason === PARTICIPANT_REFUSED && { endItemPending: true }),
    });
    if (ended) {
      await this.trace.append(conversationId, { event: 'contact-ended', contactId, reason });
    }
    return ended;
  }
}

function keyOf(message: CustomerMessage): ConversationKey {
  return {
    channel: message.channel,
    customerAddress: message.customerAddress,
    businessAddress: message.businessAddress,
  };
}

function defaultName(contentType: string): string {
  const extension = contentType.split('/')[1]?.split(/[;+]/)[0] ?? 'bin';
  return `attachment.${extension}`;
}
