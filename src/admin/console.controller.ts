import {
  Controller,
  Get,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { QUEUES, type QueueName } from '../relay';
import { AdminAccess } from './admin-access';
import { consoleConversationPath, CONSOLE_JOBS_PATH } from './admin-paths';
import { AdminGuard } from './admin.guard';
import { sendPage } from './console-layout';
import { conversationPage, jobsPage, type Notice, noticeNamed, searchPage } from './console-pages';
import { LoginRedirectFilter } from './login-redirect.filter';
import { QueueNamePipe } from './queue-name.pipe';
import { RelayJobs } from './relay-jobs';
import { SupportConversations } from './support-conversations';

/** How many failed jobs of each queue the jobs page lists, last failed first. */
const FAILED_JOBS_SHOWN = 100;

/**
 * The support console: server-rendered pages over the same operations as the admin API. Every
 * action is a form POST answered with a redirect to the page it changed (`?notice=` says how it
 * went), so reloading a page never repeats it.
 */
@Controller('admin/console')
@UseGuards(AdminGuard)
@UseFilters(LoginRedirectFilter)
export class ConsoleController {
  constructor(
    private readonly access: AdminAccess,
    private readonly conversations: SupportConversations,
    private readonly jobs: RelayJobs,
  ) {}

  /** Search by customer address (and channel), or go to the conversation of a contact id. */
  @Get()
  async search(
    @Req() req: Request,
    @Res() res: Response,
    @Query('customer') customer?: string,
    @Query('channel') channel?: string,
    @Query('contact') contact?: string,
  ): Promise<void> {
    const csrf = this.access.csrfTokenFor(req);
    const search = { customer, channel, contact };
    if (contact?.trim()) {
      const found = await this.conversations.byContactId(contact.trim());
      if (found) return res.redirect(303, consoleConversationPath(found.conversation.id));
      return sendPage(res, searchPage(csrf, search, []), 404);
    }
    const found = customer?.trim()
      ? await this.conversations.byCustomer(customer, channel?.trim() || undefined)
      : undefined;
    sendPage(res, searchPage(csrf, search, found));
  }

  @Get('conversations/:conversationId')
  async conversation(
    @Req() req: Request,
    @Res() res: Response,
    @Param('conversationId') conversationId: string,
    @Query('notice') notice?: string,
  ): Promise<void> {
    const csrf = this.access.csrfTokenFor(req);
    const found = await this.conversations.byId(conversationId);
    if (!found) return sendPage(res, searchPage(csrf, {}, []), 404);
    sendPage(res, conversationPage(csrf, found, noticeNamed(notice)));
  }

  @Post('conversations/:conversationId/end')
  async end(@Res() res: Response, @Param('conversationId') conversationId: string): Promise<void> {
    const outcome = await this.conversations.end(conversationId);
    if (outcome === 'no-such-conversation') {
      throw new NotFoundException(`no conversation ${conversationId}`);
    }
    res.redirect(303, `${consoleConversationPath(conversationId)}?notice=${outcome}`);
  }

  @Get('jobs')
  async failedJobs(
    @Req() req: Request,
    @Res() res: Response,
    @Query('notice') notice?: string,
  ): Promise<void> {
    const [overview, failed] = await Promise.all([
      this.jobs.overview(),
      Promise.all(
        QUEUES.map(async (queue) => ({
          queue,
          ...(await this.jobs.failedJobs(queue, 0, FAILED_JOBS_SHOWN)),
        })),
      ),
    ]);
    sendPage(res, jobsPage(this.access.csrfTokenFor(req), overview, failed, noticeNamed(notice)));
  }

  @Post('jobs/:queue/retry-all')
  async retryAll(
    @Res() res: Response,
    @Param('queue', QueueNamePipe) queue: QueueName,
  ): Promise<void> {
    await this.jobs.retryAll(queue);
    backToJobs(res, queue, 'retried-all');
  }

  @Post('jobs/:queue/:jobId/retry')
  async retry(
    @Res() res: Response,
    @Param('queue', QueueNamePipe) queue: QueueName,
    @Param('jobId') jobId: string,
  ): Promise<void> {
    backToJobs(res, queue, await this.jobs.retry(queue, jobId));
  }

  @Post('jobs/:queue/:jobId/discard')
  async discard(
    @Res() res: Response,
    @Param('queue', QueueNamePipe) queue: QueueName,
    @Param('jobId') jobId: string,
  ): Promise<void> {
    backToJobs(res, queue, await this.jobs.discard(queue, jobId));
  }
}

function backToJobs(res: Response, queue: QueueName, notice: Notice): void {
  res.redirect(303, `${CONSOLE_JOBS_PATH}?notice=${notice}#failed-${queue}`);
}
