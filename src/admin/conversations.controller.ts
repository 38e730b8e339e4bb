import {
  BadRequestException,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { AdminGuard } from './admin.guard';
import { type ConversationAnswer, SupportConversations } from './support-conversations';

/** Support's view of conversations: found by customer or by any ContactId, never with a token. */
@Controller('admin/conversations')
@UseGuards(AdminGuard)
export class AdminConversationsController {
  constructor(private readonly conversations: SupportConversations) {}

  @Get()
  async byCustomer(
    @Query('customer') customer?: string,
    @Query('channel') channel?: string,
  ): Promise<{ conversations: ConversationAnswer[] }> {
    if (!customer?.trim()) {
      throw new BadRequestException('customer is required: ?customer=%2B15550001111');
    }
    return { conversations: await this.conversations.byCustomer(customer, channel || undefined) };
  }

  /** By InitialContactId or any ContactId the conversation's contact had. */
  @Get(':contactId')
  async byContactId(@Param('contactId') contactId: string): Promise<ConversationAnswer> {
    const found = await this.conversations.byContactId(contactId);
    if (!found) throw new NotFoundException(`no conversation has contact ${contactId}`);
    return found;
  }

  @Post(':conversationId/end')
  @HttpCode(200)
  async end(@Param('conversationId') conversationId: string): Promise<ConversationAnswer> {
    const outcome = await this.conversations.end(conversationId);
    if (outcome === 'not-active') {
      throw new ConflictException(`conversation ${conversationId} has no live contact`);
    }
    const ended = outcome === 'ended' && (await this.conversations.byId(conversationId));
    if (!ended) throw new NotFoundException(`no conversation ${conversationId}`);
    return ended;
  }
}
