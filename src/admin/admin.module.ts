import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations';
import { RelayModule } from '../relay';
import { AdminTokenGuard } from './admin-token.guard';
import { AdminConversationsController } from './conversations.controller';
import { AdminJobsController } from './jobs.controller';
import { RelayJobs } from './relay-jobs';

/** The admin API under /admin (bearer ADMIN_API_TOKEN; 404 everywhere without it). */
@Module({
  imports: [ConversationsModule, RelayModule],
  controllers: [AdminConversationsController, AdminJobsController],
  providers: [AdminTokenGuard, RelayJobs],
})
export class AdminModule {}
