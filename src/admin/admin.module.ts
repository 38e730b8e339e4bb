import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ConversationsModule } from '../conversations';
import { RelayModule } from '../relay';
import { AdminAccess } from './admin-access';
import { QUEUE_DASHBOARD_PATH } from './admin-paths';
import { AdminGuard } from './admin.guard';
import { ConsoleLoginController } from './console-login.controller';
import { ConsoleController } from './console.controller';
import { AdminConversationsController } from './conversations.controller';
import { AdminJobsController } from './jobs.controller';
import { QueueDashboard } from './queue-dashboard';
import { RelayJobs } from './relay-jobs';
import { SupportConversations } from './support-conversations';

/**
 * Everything under /admin, open with ADMIN_API_TOKEN only (404 everywhere without it): the
 * admin API, the support console and its login, and Bull Board at /admin/queues.
 */
@Module({
  imports: [ConversationsModule, RelayModule],
  controllers: [
    AdminConversationsController,
    AdminJobsController,
    ConsoleLoginController,
    ConsoleController,
  ],
  providers: [AdminAccess, AdminGuard, QueueDashboard, RelayJobs, SupportConversations],
})
export class AdminModule implements NestModule {
  constructor(
    private readonly access: AdminAccess,
    private readonly dashboard: QueueDashboard,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    // Nest answers what a middleware throws as it answers a guard: 404, 401 or 403 in JSON.
    const authorize = (req: Request, res: Response, next: NextFunction) => {
      this.access.authorize(req, res);
      next();
    };
    consumer.apply(authorize, this.dashboard.handler).forRoutes(QUEUE_DASHBOARD_PATH);
  }
}
