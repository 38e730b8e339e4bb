/**
 * ClientToken idempotency: a repeated call with the same token answers what the first one
 * answered and does nothing again. Only successful answers are kept, so a call refused with
 * a retryable error can be retried with its token.
 */
export class IdempotencyCache {
  private readonly answers = new Map<string, unknown>();

  run<T>(operation: string, scope: string, clientToken: string | undefined, perform: () => T): T {
    if (!clientToken) return perform();
    const key = `${operation}\u0000${scope}\u0000${clientToken}`;
    if (this.answers.has(key)) return this.answers.get(key) as T;
    const answer = perform();
    this.answers.set(key, answer);
    return answer;
  }

  clear(): void {
    this.answers.clear();
  }
}
