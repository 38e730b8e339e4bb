import type { JobsOptions, Queue } from 'bullmq';
import type { ConversationLanes, MessageStatus } from './conversation-lanes';
import type { LaneJob } from './lane-worker';

/**
 * Puts a message in its lane and its job in the queue. A message still pending may have been
 * stored by a request that failed before its job was added; adding again is harmless, BullMQ
 * keeps one job per id. Answers 'new' or the status of the message already known.
 */
export async function enqueueInLane<T>(
  lanes: ConversationLanes<T>,
  queue: Queue<LaneJob>,
  jobOptions: JobsOptions,
  job: LaneJob,
  payload: T,
  score?: number,
): Promise<'new' | MessageStatus> {
  const status = await lanes.accept(job.messageId, job.conversationId, payload, score);
  if (status === 'new' || status === 'pending') await queue.add('message', job, jobOptions);
  return status;
}
