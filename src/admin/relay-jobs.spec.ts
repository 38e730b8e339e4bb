import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { FailedMessage, FailedMessages, InboundMessage, LaneJob } from '../relay';
import { RelayJobs } from './relay-jobs';

const JOB_ID = encodeURIComponent('generic:app/msg-1');

const inbound: InboundMessage = {
  channel: 'generic:app',
  customerAddress: '+15550001111',
  businessAddress: '+15559990000',
  providerMessageId: 'msg-1',
  text: 'Hi',
  attachments: [
    {
      source: 'https://files.example.com/a.png?X-Amz-Signature=abc',
      contentType: 'image/png',
      name: 'a.png',
    },
  ],
  receivedAt: 1,
};

function setUp(failedIds: string[] = []) {
  const retried: string[] = [];
  const failed = {
    list: (): Promise<{ total: number; messages: FailedMessage[] }> =>
      Promise.resolve({
        total: 2,
        messages: [
          {
            jobId: JOB_ID,
            messageId: JOB_ID,
            conversationId: 'conv-1',
            failedReason: 'refused',
            attemptsMade: 1,
            createdAt: 1,
            failedAt: 2,
            payload: inbound,
          },
          {
            jobId: 'old',
            messageId: 'old',
            conversationId: 'conv-1',
            failedReason: 'refused',
            attemptsMade: 1,
            createdAt: 1,
          },
        ],
      }),
    retry: (_queue: string, id: string) => {
      retried.push(id);
      return Promise.resolve(id === 'gone' ? 'expired' : 'retried');
    },
  } as unknown as FailedMessages;
  const queue = {
    getJob: (id: string) => Promise.resolve(id === JOB_ID ? { id } : undefined),
    getRanges: () => Promise.resolve([...failedIds]),
  } as unknown as Queue<LaneJob>;
  return { jobs: new RelayJobs(failed, queue, queue), retried };
}

describe('RelayJobs', () => {
  let logged: jest.SpyInstance;

  beforeEach(() => {
    logged = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => {});
  });

  afterEach(() => logged.mockRestore());

  it('shows what a failed message was, without the source URLs of its files', async () => {
    const { jobs } = await setUp().jobs.failedJobs('inbound', 0, 10);
    expect(jobs[0]).toEqual({
      id: JOB_ID,
      messageId: JOB_ID,
      conversationId: 'conv-1',
      failedReason: 'refused',
      attemptsMade: 1,
      createdAt: 1,
      failedAt: 2,
      message: { ...inbound, attachments: [{ contentType: 'image/png', name: 'a.png' }] },
    });
    expect(JSON.stringify(jobs)).not.toContain('X-Amz-Signature');
    expect(jobs[1].message).toBeNull();
  });

  it('finds a job by its id as listed, or by the id pasted unencoded into the path', async () => {
    const { jobs, retried } = setUp();
    await jobs.retry('inbound', JOB_ID);
    await jobs.retry('inbound', 'generic:app/msg-1');
    expect(retried).toEqual([JOB_ID, JOB_ID]);
    expect(logged.mock.calls).toEqual([
      [{ queue: 'inbound', jobId: JOB_ID }, 'an operator retried a failed job'],
      [{ queue: 'inbound', jobId: JOB_ID }, 'an operator retried a failed job'],
    ]);
  });

  it('retries every job failed at the time of the call once, and counts what it could not', async () => {
    const { jobs, retried } = setUp(['a', 'gone', 'b']);
    expect(await jobs.retryAll('inbound')).toEqual({ retried: 2, skipped: 1 });
    expect(retried).toEqual(['a', 'gone', 'b']);
    expect(logged).toHaveBeenCalledWith(
      { queue: 'inbound', retried: 2, skipped: 1 },
      'an operator retried the failed jobs',
    );
  });
});
