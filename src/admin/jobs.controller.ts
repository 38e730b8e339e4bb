import {
  BadRequestException,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import type { QueueName } from '../relay';
import { AdminGuard } from './admin.guard';
import { QueueNamePipe } from './queue-name.pipe';
import { type FailedJobView, type QueueOverview, RelayJobs } from './relay-jobs';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

const REFUSALS = {
  'no-such-job': (id: string) => new NotFoundException(`no job ${id}`),
  'not-failed': (id: string) => new ConflictException(`job ${id} is not failed`),
  expired: (id: string) =>
    new ConflictException(`the message of job ${id} is no longer stored; discard the job`),
};

/**
 * The relay's queues (`inbound`, `outbound`): counts, failed jobs, retry, discard, pause.
 * The static `failed` routes are declared before the `:jobId` ones that would match them.
 */
@Controller('admin/jobs')
@UseGuards(AdminGuard)
export class AdminJobsController {
  constructor(private readonly jobs: RelayJobs) {}

  @Get()
  async overview(): Promise<{ queues: QueueOverview[] }> {
    return { queues: await this.jobs.overview() };
  }

  @Get(':queue/failed')
  async failed(
    @Param('queue', QueueNamePipe) queue: QueueName,
    @Query('offset') offset?: string,
    @Query('limit') limit?: string,
  ): Promise<{ queue: QueueName; total: number; offset: number; jobs: FailedJobView[] }> {
    const from = wholeNumber('offset', offset, {
      fallback: 0,
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    const size = wholeNumber('limit', limit, { fallback: DEFAULT_PAGE, min: 1, max: MAX_PAGE });
    const page = await this.jobs.failedJobs(queue, from, size);
    return { queue, offset: from, ...page };
  }

  @Post(':queue/failed/retry')
  @HttpCode(200)
  async retryAll(@Param('queue', QueueNamePipe) queue: QueueName) {
    const result = await this.jobs.retryAll(queue);
    return { queue, ...result };
  }

  @Delete(':queue/failed')
  async discardAll(@Param('queue', QueueNamePipe) queue: QueueName) {
    const result = await this.jobs.discardAll(queue);
    return { queue, ...result };
  }

  @Post(':queue/pause')
  @HttpCode(200)
  async pause(@Param('queue', QueueNamePipe) queue: QueueName) {
    await this.jobs.pause(queue);
    return { queue, paused: true };
  }

  @Post(':queue/resume')
  @HttpCode(200)
  async resume(@Param('queue', QueueNamePipe) queue: QueueName) {
    await this.jobs.resume(queue);
    return { queue, paused: false };
  }

  @Post(':queue/:jobId/retry')
  @HttpCode(200)
  async retry(@Param('queue', QueueNamePipe) queue: QueueName, @Param('jobId') jobId: string) {
    const outcome = await this.jobs.retry(queue, jobId);
    if (outcome !== 'retried') throw REFUSALS[outcome](jobId);
    return { queue, id: jobId, outcome };
  }

  @Delete(':queue/:jobId')
  async discard(@Param('queue', QueueNamePipe) queue: QueueName, @Param('jobId') jobId: string) {
    const outcome = await this.jobs.discard(queue, jobId);
    if (outcome !== 'discarded') throw REFUSALS[outcome](jobId);
    return { queue, id: jobId, outcome };
  }
}

function wholeNumber(
  name: string,
  value: string | undefined,
  range: { fallback: number; min: number; max: number },
): number {
  if (value === undefined) return range.fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < range.min || parsed > range.max) {
    throw new BadRequestException(
      `${name} must be a whole number from ${range.min} to ${range.max}`,
    );
  }
  return parsed;
}
