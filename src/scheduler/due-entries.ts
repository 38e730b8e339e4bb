import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

export interface DueEntriesWalk<T> {
  /** Up to a page of entries scored above `after` (from the lowest when undefined), lowest first. */
  page: (after: number | undefined) => Promise<T[]>;
  score: (entry: T) => number;
  /** Handles one entry; a throw counts as that entry's failure and the walk goes on. */
  handle: (entry: T) => Promise<void>;
  /** Entries handled at once. */
  concurrency: number;
  signal: AbortSignal;
}

/** The entries whose handling threw, and the first one's reason (for one log line a run). */
export interface WalkFailures {
  count: number;
  firstReason?: string;
}

/**
 * Walks a sorted-set index page by page in score order, handling each page a few entries at a
 * time and yielding to the event loop between pages, so a long walk never holds up the relay.
 * Each page starts above the previous page's last score: an entry left where it was (a failed
 * refresh) is not fetched again in the same walk. Entries sharing that last score beyond the
 * page wait for the next walk.
 */
export async function walkDueEntries<T>(walk: DueEntriesWalk<T>): Promise<WalkFailures> {
  const failures: WalkFailures = { count: 0 };
  const handle = async (entry: T) => {
    try {
      await walk.handle(entry);
    } catch (error) {
      failures.count += 1;
      failures.firstReason ??= error instanceof Error ? error.message : String(error);
    }
  };
  let after: number | undefined;
  while (!walk.signal.aborted) {
    const page = await walk.page(after);
    if (page.length === 0) break;
    await runBounded(page, walk.concurrency, walk.signal, handle);
    after = walk.score(page[page.length - 1]);
    await yieldToEventLoop();
  }
  return failures;
}

/** Runs `handle` over `items`, at most `concurrency` at once; none starts once `signal` aborts. */
async function runBounded<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  handle: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal.aborted) {
      const item = items[next];
      next += 1;
      await handle(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
