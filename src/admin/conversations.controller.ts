import {
  BadRequestException,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Logger,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  type Conversation,
  ConversationService,
  ConversationStore,
  ConversationTrace,
  type ConversationView,
  type TraceEvent,
  withoutTokens,
} from '../conversations';
import { AdminTokenGuard } from './admin-token.guard';

export interface ConversationAnswer {
  conversation: ConversationView;
  /** Oldest first. */
  trace: TraceEvent[];
}

/** Support's view of conversations: found by customer or by any ContactId, never with a token. */
@Controller('admin/conversations')
@UseGuards(AdminTokenGuard)
export class AdminConversationsController {
  private readonly logger = new Logger(AdminConversationsController.name);

  constructor(
    private readonly store: ConversationStore,
    private readonly trace: ConversationTrace,
    private readonly conversations: ConversationService,
  ) {}

  @Get()
  async byCustomer(
    @Query('customer') customer?: string,
    @Query('channel') channel?: string,
  ): Promise<{ conversations: ConversationAnswer[] }> {
    if (!customer?.trim()) {
      throw new BadRequestException('customer is required: ?customer=%2B15550001111');
    }
    // A '+' left unencoded in the query string arrives as a space.
    const address = /^ \d+$/.test(customer) ? `+${customer.slice(1)}` : customer.trim();
    const found = await this.store.findByCustomer(address, channel || undefined);
    return { conversations: await Promise.all(found.map((c) => this.answer(c))) };
  }

  /** By InitialContactId or any ContactId the conversation's contact had. */
  @Get(':contactId')
  async byContactId(@Param('contactId') contactId: string): Promise<ConversationAnswer> {
    const conversation = await this.store.findByContactId(contactId);
    if (!conversation) throw new NotFoundException(`no conversation has contact ${contactId}`);
    return this.answer(conversation);
  }

  @Post(':conversationId/end')
  @HttpCode(200)
  async end(@Param('conversationId') conversationId: string): Promise<ConversationAnswer> {
    if (!(await this.store.exists(conversationId))) {
      throw new NotFoundException(`no conversation ${conversationId}`);
    }
    if ((await this.conversations.endByOperator(conversationId)) === 'not-active') {
      throw new ConflictException(`conversation ${conversationId} has no live contact`);
    }
    this.logger.log({ conversationId }, 'an operator ended the contact');
    const ended = await this.store.get(conversationId);
    if (!ended) throw new NotFoundException(`no conversation ${conversationId}`);
    return this.answer(ended);
  }

  private async answer(conversation: Conversation): Promise<ConversationAnswer> {
    return {
      conversation: withoutTokens(conversation),
      trace: await this.trace.list(conversation.id),
    };
  }
}
