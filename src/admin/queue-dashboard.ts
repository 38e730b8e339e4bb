import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Express, RequestHandler } from 'express';
import type { LaneJob } from '../relay';
import { CONSOLE_PATH, QUEUE_DASHBOARD_PATH } from './admin-paths';

/**
 * Bull Board over the `inbound` and `outbound` queues, read-only: retrying or removing a job
 * there would bypass its conversation's lane, which only the console and the admin API keep.
 */
@Injectable()
export class QueueDashboard {
  /** The dashboard, to mount at QUEUE_DASHBOARD_PATH. */
  readonly handler: RequestHandler;

  constructor(
    @InjectQueue('inbound') inbound: Queue<LaneJob>,
    @InjectQueue('outbound') outbound: Queue<LaneJob>,
  ) {
    const server = new ExpressAdapter().setBasePath(QUEUE_DASHBOARD_PATH);
    createBullBoard({
      queues: [inbound, outbound].map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
      serverAdapter: server,
      options: {
        uiConfig: {
          boardTitle: 'connect-stream-bridge',
          hideDocsLink: true,
          miscLinks: [{ text: 'Support console', url: CONSOLE_PATH }],
        },
      },
    });
    const app = server.getRouter() as Express;
    app.disable('x-powered-by');
    this.handler = app;
  }
}
