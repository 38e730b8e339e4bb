import {
  BadRequestException,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  Logger,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { QUEUES, type QueueName } from '../relay';
import { AdminTokenGuard } from './admin-token.guard';
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
@UseGuards(AdminTokenGuard)
export class AdminJobsController {
  private readonly logger = new Logger(AdminJobsController.name);

  constructor(private readonly jobs: RelayJobs) {}

  @Get()
  async overview(): Promise<{ queues: QueueOverview[] }> {
    return { queues: await this.jobs.overview() };
  }

  @Get(':queue/failed')
  async failed(
    @Param('queue') name: string,
    @Query('offset') offset?: string,
    @Query('limit') limit?: string,
  ): Promise<{ queue: QueueName; total: number; offset: number; jobs: FailedJobView[] }> {
    const queue = queueNamed(name);
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
  async retryAll(@Param('queue') name: string) {
    const queue = queueNamed(name);
    const result = await this.jobs.retryAll(queue);
    this.logger.log({ queue, ...result }, 'an operator retried the failed jobs');
    return { queue, ...result };
  }

  @Delete(':queue/failed')
  async discardAll(@Param('queue') name: string) {
    const queue = queueNamed(name);
    const result = await this.jobs.discardAll(queue);
    this.logger.log({ queue, ...result }, 'an operator discarded the failed jobs');
    return { queue, ...result };
  }

  @Post(':queue/pause')
  @HttpCode(200)
  async pause(@Param('queue') name: string) {
    const queue = queueNamed(name);
    await this.jobs.pause(queue);
    this.logger.log({ queue }, 'an operator paused the queue');
    return { queue, paused: true };
  }

  @Post(':queue/resume')
  @HttpCode(200)
  async resume(@Param('queue') name: string) {
    const queue = queueNamed(name);
    await this.jobs.resume(queue);
    this.logger.log({ queue }, 'an operator resumed the queue');
    return { queue, paused: false };
  }

  @Post(':queue/:jobId/retry')
  @HttpCode(200)
  async retry(@Param('queue') name: string, @Param('jobId') jobId: string) {
    const queue = queueNamed(name);
    const outcome = await this.jobs.retry(queue, jobId);
    if (outcome !== 'retried') throw REFUSALS[outcome](jobId);
    this.logger.log({ queue, jobId }, 'an operator retried a failed job');
    return { queue, id: jobId, outcome };
  }

  @Delete(':queue/:jobId')
  async discard(@Param('queue') name: string, @Param('jobId') jobId: string) {
    const queue = queueNamed(name);
    const outcome = await this.jobs.discard(queue, jobId);
    if (outcome !== 'discarded') throw REFUSALS[outcome](jobId);
    this.logger.log({ queue, jobId }, 'an operator discarded a failed job');
    return { queue, id: jobId, outcome };
  }
}

function queueNamed(name: string): QueueName {
  if (!(QUEUES as readonly string[]).includes(name))
    throw new NotFoundException(`no queue ${name}`);
  return name as QueueName;
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
