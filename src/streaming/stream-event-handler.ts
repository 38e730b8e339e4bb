import { Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { AppConfig } from '../config';
import {
  ConversationService,
  ConversationStore,
  ConversationTrace,
  type StreamContactLookup,
} from '../conversations';
import { Metrics } from '../ops';
import { OutboundIntake, type OutboundItem } from '../relay';
import {
  type ConnectStreamEvent,
  InvalidStreamEventError,
  isForCustomer,
  parseStreamEvent,
} from './connect-stream-event';
import type { VerifiedNotification } from './verified-sns-message';

/** What became of one stream notification; every outcome is answered 200 (SNS must not retry). */
export type StreamOutcome =
  | 'queued'
  | 'duplicate'
  | 'invalid'
  | 'not-ours'
  | 'not-for-customer'
  | 'unsupported-content'
  | 'stale-contact'
  | 'ignored';

const TEXT_TYPES = new Set(['text/plain', 'text/markdown']);

/** Whether forwarding the item sends something: an attachment, or a message in text. */
export function carriesSendableContent(event: ConnectStreamEvent): boolean {
  return (
    event.kind === 'attachment' || (event.kind === 'message' && TEXT_TYPES.has(event.contentType))
  );
}

/**
 * The customer's own message or attachment, which Connect streams back: never forwarded
 * (`isForCustomer`).
 */
function isCustomerEcho(event: ConnectStreamEvent): boolean {
  return (
    (event.kind === 'message' || event.kind === 'attachment') &&
    event.participantRole === 'CUSTOMER'
  );
}

/**
 * Reads one Connect stream item and acts on it: finds its conversation (by InitialContactId,
 * then ContactId), records a ContactId a transfer gave the contact, and queues for the
 * customer what the forward rule lets through, the optional agent-joined notice and the end of
 * the chat. Throws only when Redis fails, so that the endpoint answers 503 and SNS retries.
 */
@Injectable()
export class StreamEventHandler {
  private readonly logger = new Logger(StreamEventHandler.name);
  private readonly handled: Counter<'kind' | 'outcome'>;

  constructor(
    private readonly config: AppConfig,
    private readonly store: ConversationStore,
    private readonly conversations: ConversationService,
    private readonly trace: ConversationTrace,
    private readonly outbound: OutboundIntake,
    metrics: Metrics,
  ) {
    this.handled = metrics.counter(
      'connect_stream_events_total',
      'Connect stream items received over SNS, by kind and what became of them',
      ['kind', 'outcome'],
    );
  }

  async handle(notification: VerifiedNotification): Promise<StreamOutcome> {
    let event: ConnectStreamEvent;
    try {
      event = parseStreamEvent(notification.message, notification.attributes);
    } catch (error) {
      if (!(error instanceof InvalidStreamEventError)) throw error;
      this.logger.warn(
        { messageId: notification.messageId, reason: error.reason },
        'not a stream item',
      );
      this.handled.inc({ kind: 'unknown', outcome: 'invalid' });
      return 'invalid';
    }
    const outcome = await this.route(event);
    this.handled.inc({ kind: event.kind, outcome });
    if (outcome === 'not-ours') {
      this.logger.debug(
        { contactId: event.contactId, kind: event.kind },
        'stream item of another contact',
      );
    }
    return outcome;
  }

  /** Acts on an item as `handle` does, for an item that did not come through SNS. */
  async route(event: ConnectStreamEvent): Promise<StreamOutcome> {
    const lookup = await this.store.lookUpStreamContact(event.initialContactId, event.contactId);
    // Every customer message comes back this way; with its ContactId indexed there is nothing
    // to record, so the conversation is not read (nor its tokens decrypted).
    if (lookup.contactIdIndexed && isCustomerEcho(event)) return 'not-for-customer';
    const target = await this.target(event, lookup);
    if (!target) return 'not-ours';
    const { conversationId, live, endPending } = target;
    switch (event.kind) {
      case 'message':
      case 'attachment':
        return this.forward(conversationId, event);
      case 'participant-joined':
        return live && event.participantRole === 'AGENT'
          ? this.notice(conversationId, event, this.config.notices.agentJoined, event.displayName)
          : 'ignored';
      case 'chat-ended':
        if (!live && !endPending) return 'stale-contact';
        return this.queue(conversationId, event, {
          kind: 'end',
          itemId: event.id,
          initialContactId: event.initialContactId,
          contactId: event.contactId,
          notice: this.config.notices.chatEnded,
        });
      default:
        return 'ignored';
    }
  }

  /**
   * The conversation the item belongs to, and whether it is of the live contact (whose new
   * ContactIds are indexed as they appear). A contact still being started counts as live: its
   * first items can arrive before the conversation has recorded it. `endPending`: the item is
   * of the contact that ended last, whose chat-ended item the conversation still waits for.
   */
  private async target(
    event: ConnectStreamEvent,
    lookup: StreamContactLookup,
  ): Promise<{ conversationId: string; live: boolean; endPending?: boolean } | undefined> {
    const id = lookup.conversationId;
    const conversation =
      id === undefined ? undefined : await this.conversations.readConversation(id);
    if (
      conversation?.state === 'active' &&
      conversation.initialContactId === event.initialContactId
    ) {
      if (!conversation.contactIds.includes(event.contactId)) {
        await this.store.addContactId(conversation.id, event.contactId);
        await this.trace.append(conversation.id, {
          event: 'contact-transferred',
          contactId: event.contactId,
        });
      }
      return { conversationId: conversation.id, live: true };
    }
    const starting = lookup.startingConversationId;
    if (starting) return { conversationId: starting, live: true };
    if (!conversation) return undefined;
    const endPending =
      conversation.endItemPending === true &&
      conversation.lastEndedInitialContactId === event.initialContactId;
    return { conversationId: conversation.id, live: false, endPending };
  }

  private async forward(conversationId: string, event: ConnectStreamEvent): Promise<StreamOutcome> {
    if (!isForCustomer(event)) return 'not-for-customer';
    if (!carriesSendableContent(event)) {
      // Never silent: support finds why the customer did not get it.
      await this.trace.append(conversationId, {
        event: 'dropped',
        direction: 'outbound',
        connectMessageId: event.id,
        reason: `content type ${event.contentType.slice(0, 100)} cannot be sent to the customer`,
      });
      return 'unsupported-content';
    }
    return this.queue(conversationId, event, {
      kind: 'message',
      itemId: event.id,
      contactId: event.contactId,
      text: event.content,
      contentType: event.kind === 'message' ? event.contentType : 'text/plain',
      attachments: event.attachments.map(({ attachmentId, name, contentType }) => ({
        attachmentId,
        name,
        contentType,
      })),
    });
  }

  private async notice(
    conversationId: string,
    event: ConnectStreamEvent,
    template: string | undefined,
    name = 'An agent',
  ): Promise<StreamOutcome> {
    if (!template) return 'ignored';
    return this.queue(conversationId, event, {
      kind: 'message',
      itemId: event.id,
      contactId: event.contactId,
      text: template.replaceAll('{name}', name),
      contentType: 'text/plain',
      attachments: [],
    });
  }

  private async queue(
    conversationId: string,
    event: ConnectStreamEvent,
    item: OutboundItem,
  ): Promise<StreamOutcome> {
    const status = await this.outbound.accept(conversationId, item, event.absoluteTime);
    return status === 'accepted' ? 'queued' : 'duplicate';
  }
}
