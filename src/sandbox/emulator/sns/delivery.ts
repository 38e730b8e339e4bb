import { setMaxListeners } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { SeededRandom } from '../random';
import type { SnsMessageType } from './signer';

export interface RetryPolicy {
  /** Total attempts, the first one included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** One POST of one message to one subscription; retries send the same body and headers. */
export interface DeliveryRequest {
  messageId: string;
  subscriptionArn: string;
  endpoint: string;
  type: SnsMessageType;
  headers: Record<string, string>;
  body: string;
}

/**
 * - delivered: the endpoint answered 200–499 (SNS retries only 5xx, other codes, timeouts and
 *   connection errors: https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html)
 * - retrying: a failed attempt, another one is scheduled
 * - gave-up: the last attempt failed
 * - dropped: the drop fault swallowed the message; no attempt was made (attempt 0)
 */
export type DeliveryOutcome = 'delivered' | 'retrying' | 'gave-up' | 'dropped';

export interface DeliveryRecord {
  messageId: string;
  subscriptionArn: string;
  endpoint: string;
  type: SnsMessageType;
  /** 1, or 2 for the second copy sent by the duplicate fault. */
  copy: number;
  attempt: number;
  outcome: DeliveryOutcome;
  statusCode?: number;
  error?: string;
  /** ISO 8601 time the attempt ended. */
  at: string;
}

type AttemptResult = { statusCode: number } | { error: string };

const FIXED_HEADERS = {
  'Content-Type': 'text/plain; charset=UTF-8',
  'User-Agent': 'Amazon Simple Notification Service Agent',
  'Accept-Encoding': 'gzip,deflate',
};

/** Sends SNS's HTTP(S) POSTs in the background, with retries, and records every attempt. */
export class HttpDelivery {
  private readonly records: DeliveryRecord[] = [];
  private readonly closing = new AbortController();
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  /** Draws the retry jitter; replaced when the fault plan is reseeded. */
  jitter: SeededRandom = new SeededRandom(1);

  constructor(
    private readonly retry: RetryPolicy,
    private readonly timeoutMs: number,
    private readonly onRecord: (record: DeliveryRecord) => void = () => {},
  ) {
    // Every request in flight and every retry timer listens to this one signal.
    setMaxListeners(0, this.closing.signal);
  }

  /** Starts the first attempt now (so POSTs start in call order) and returns without waiting. */
  deliver(request: DeliveryRequest, copy = 1): void {
    if (this.closing.signal.aborted) return;
    this.pending++;
    void this.attemptUntilDone(request, copy).finally(() => {
      this.pending--;
      if (this.pending === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    });
  }

  recordDropped(request: DeliveryRequest): void {
    this.record(request, 1, 0, 'dropped', {});
  }

  history(): DeliveryRecord[] {
    return this.records.map((record) => ({ ...record }));
  }

  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels retry timers and requests in flight; nothing more is recorded. */
  close(): void {
    this.closing.abort();
  }

  private async attemptUntilDone(request: DeliveryRequest, copy: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.post(request);
      if (this.closing.signal.aborted) return;
      const failed = 'error' in result || result.statusCode < 200 || result.statusCode >= 500;
      const last = attempt >= this.retry.attempts;
      const outcome = !failed ? 'delivered' : last ? 'gave-up' : 'retrying';
      this.record(request, copy, attempt, outcome, result);
      if (outcome !== 'retrying') return;
      try {
        await sleep(this.backoffMs(attempt), undefined, { signal: this.closing.signal });
      } catch {
        return; // closed
      }
    }
  }

  /** Exponential backoff with "equal jitter": half the step fixed, half drawn from the seeded random. */
  private backoffMs(failedAttempt: number): number {
    const step = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (failedAttempt - 1));
    return step / 2 + this.jitter.next() * (step / 2);
  }

  private post(request: DeliveryRequest): Promise<AttemptResult> {
    return new Promise((resolve) => {
      const url = new URL(request.endpoint);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const outgoing = send(
        url,
        {
          method: 'POST',
          // A fresh connection per POST: reusing a socket that the receiver is just closing
          // would show up as a spurious failed attempt.
          agent: false,
          headers: {
            ...request.headers,
            ...FIXED_HEADERS,
            'Content-Length': Buffer.byteLength(request.body),
          },
          signal: this.closing.signal,
          timeout: this.timeoutMs,
        },
        (response: IncomingMessage) => {
          response.resume();
          resolve({ statusCode: response.statusCode ?? 0 });
        },
      );
      outgoing.on('timeout', () =>
        outgoing.destroy(new Error(`no response within ${this.timeoutMs} ms`)),
      );
      outgoing.on('error', (error) => resolve({ error: error.message }));
      outgoing.end(request.body);
    });
  }

  private record(
    request: DeliveryRequest,
    copy: number,
    attempt: number,
    outcome: DeliveryOutcome,
    result: Partial<{ statusCode: number; error: string }>,
  ): void {
    const record = {
      messageId: request.messageId,
      subscriptionArn: request.subscriptionArn,
      endpoint: request.endpoint,
      type: request.type,
      copy,
      attempt,
      outcome,
      ...result,
      at: new Date().toISOString(),
    };
    this.records.push(record);
    this.onRecord({ ...record });
  }
}
