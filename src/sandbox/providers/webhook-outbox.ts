import { types } from 'node:util';
import { MessageCapture } from './capture';

/** A webhook request ready to go: its body is signed as the provider signs it. */
export interface SignedWebhook {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** How a webhook the fake posted in the background was answered. */
export interface WebhookAttempt {
  url: string;
  /** The HTTP status answered, or null when no answer came (refused, reset, timed out). */
  responseStatus: number | null;
  /** Why no answer came. */
  error: string | null;
  postedAt: string;
}

const POST_TIMEOUT_MS = 10_000;

export function postWebhook(webhook: SignedWebhook, signal?: AbortSignal): Promise<Response> {
  return fetch(webhook.url, {
    method: 'POST',
    headers: webhook.headers,
    body: webhook.body,
    signal,
  });
}

/**
 * Webhooks a fake posts on its own (delivery statuses), one after another in the order they
 * were queued, each recorded with its answer. A failed post is recorded, never thrown.
 */
export class WebhookOutbox<D extends object> {
  private readonly log: MessageCapture<D & WebhookAttempt>;
  private queue: Promise<void> = Promise.resolve();
  private readonly stopped = new AbortController();

  constructor(label: string, noun: string) {
    this.log = new MessageCapture<D & WebhookAttempt>(label, noun);
  }

  /** Queues `webhook`; `details` describe it in the record. */
  enqueue(webhook: SignedWebhook, details: D): void {
    if (this.stopped.signal.aborted) return;
    this.queue = this.queue.then(async () => {
      if (this.stopped.signal.aborted) return;
      const postedAt = new Date().toISOString();
      const outcome = await this.post(webhook);
      this.log.record({ ...details, url: webhook.url, ...outcome, postedAt });
    });
  }

  attempts(): (D & WebhookAttempt)[] {
    return this.log.all();
  }

  waitFor(count: number, timeoutMs: number): Promise<(D & WebhookAttempt)[]> {
    return this.log.waitFor(count, timeoutMs);
  }

  clear(): void {
    this.log.clear();
  }

  /** Drops what is still queued, aborts the post under way and waits for it to end. */
  async close(): Promise<void> {
    this.stopped.abort();
    await this.queue;
  }

  private async post(
    webhook: SignedWebhook,
  ): Promise<Pick<WebhookAttempt, 'responseStatus' | 'error'>> {
    const signal = AbortSignal.any([this.stopped.signal, AbortSignal.timeout(POST_TIMEOUT_MS)]);
    try {
      const response = await postWebhook(webhook, signal);
      // Reading the body to its end frees the connection for the next post.
      await response.arrayBuffer();
      return { responseStatus: response.status, error: null };
    } catch (error) {
      return { responseStatus: null, error: reasonOf(error) };
    }
  }
}

function reasonOf(error: unknown): string {
  // isNativeError, not instanceof: fetch's errors may come from another realm (jest's VM).
  if (!types.isNativeError(error)) return String(error);
  // fetch reports every network failure as "fetch failed"; the reason is in the cause.
  const cause = types.isNativeError(error.cause) ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
