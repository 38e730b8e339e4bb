import { Module } from '@nestjs/common';
import { ConnectModule } from '../connect';
import { ConversationService } from './conversation-service';
import { ConversationStore } from './conversation-store';
import { ConversationTrace } from './conversation-trace';
import { TokenCipher } from './token-cipher';

/** The conversation state in Redis. Needs the global ConfigModule and RedisModule. */
@Module({
  imports: [ConnectModule],
  providers: [TokenCipher, ConversationStore, ConversationTrace, ConversationService],
  exports: [TokenCipher, ConversationStore, ConversationTrace, ConversationService],
})
export class ConversationsModule {}
