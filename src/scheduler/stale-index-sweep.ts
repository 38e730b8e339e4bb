import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { type ConversationIndex, ConversationStore } from '../conversations';
import type { Sweep, SweepCounts } from './sweep';

const INTERVAL_MS = 10 * 60_000;
const SCAN_COUNT = 200;
/**
 * A new conversation's first message is traced (and its activity recorded) a moment before its
 * record is saved: activity this recent is never taken for stale.
 */
const ACTIVITY_MARGIN_MS = 10 * 60_000;
const INDEXES: readonly ConversationIndex[] = ['credential-expiry', 'activity'];

/**
 * Removes the entries of the conversation indexes (credential schedule, activity) that point at
 * conversations that ended or no longer exist, walking each index with ZSCAN a step at a time.
 * A walk cut short by its time budget resumes where it stopped on the next run.
 */
@Injectable()
export class StaleIndexSweep implements Sweep {
  readonly name = 'stale-index-entries';
  readonly intervalMs = INTERVAL_MS;
  private readonly cursors: Record<ConversationIndex, string> = {
    'credential-expiry': '0',
    activity: '0',
  };

  constructor(private readonly store: ConversationStore) {}

  async run(signal: AbortSignal): Promise<SweepCounts> {
    const counts = { scanned: 0, removed: 0 };
    const notAfter: Record<ConversationIndex, number> = {
      // Written together with the record: any entry of a conversation not active is stale.
      'credential-expiry': Number.MAX_SAFE_INTEGER,
      activity: Date.now() - ACTIVITY_MARGIN_MS,
    };
    for (const index of INDEXES) {
      do {
        const step = await this.store.collectStaleIndexEntries(index, this.cursors[index], {
          count: SCAN_COUNT,
          notAfter: notAfter[index],
        });
        this.cursors[index] = step.cursor;
        counts.scanned += step.scanned;
        counts.removed += step.removed;
        await yieldToEventLoop();
      } while (this.cursors[index] !== '0' && !signal.aborted);
      if (signal.aborted) break;
    }
    return counts;
  }
}
