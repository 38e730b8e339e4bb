import { Injectable, Logger } from '@nestjs/common';
import {
  ConversationService,
  ConversationStore,
  ConversationTrace,
  type ConversationView,
  type TraceEvent,
} from '../conversations';

export interface ConversationAnswer {
  conversation: ConversationView;
  /** Oldest first. */
  trace: TraceEvent[];
}

export type EndOutcome = 'ended' | 'no-such-conversation' | 'not-active';

/** Conversations as support sees them: with their trace, never with a token. */
@Injectable()
export class SupportConversations {
  private readonly logger = new Logger(SupportConversations.name);

  constructor(
    private readonly store: ConversationStore,
    private readonly trace: ConversationTrace,
    private readonly conversations: ConversationService,
  ) {}

  /** Most recently active first. */
  async byCustomer(customer: string, channel?: string): Promise<ConversationAnswer[]> {
    // A '+' left unencoded in a query string arrives as a space.
    const address = /^ \d+$/.test(customer) ? `+${customer.slice(1)}` : customer.trim();
    const found = await this.store.findByCustomer(address, channel);
    return Promise.all(found.map((conversation) => this.answer(conversation)));
  }

  /** By InitialContactId or any ContactId the conversation's contact had. */
  async byContactId(contactId: string): Promise<ConversationAnswer | undefined> {
    const conversation = await this.store.findByContactId(contactId);
    return conversation && this.answer(conversation);
  }

  async byId(conversationId: string): Promise<ConversationAnswer | undefined> {
    const conversation = await this.store.view(conversationId);
    return conversation && this.answer(conversation);
  }

  /** Ends the live contact on an operator's behalf. */
  async end(conversationId: string): Promise<EndOutcome> {
    if (!(await this.store.exists(conversationId))) return 'no-such-conversation';
    const outcome = await this.conversations.endByOperator(conversationId);
    if (outcome === 'ended') this.logger.log({ conversationId }, 'an operator ended the contact');
    return outcome;
  }

  private async answer(conversation: ConversationView): Promise<ConversationAnswer> {
    return {
      conversation,
      trace: await this.trace.list(conversation.id),
    };
  }
}
