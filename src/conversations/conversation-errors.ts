/**
 * The store's errors name the operation and the conversation, never a token or an address.
 * A Redis failure is re-raised without the original error: ioredis attaches the command and
 * its arguments (tokens included) to it, and loggers serialize such properties.
 */
export class ConversationStoreError extends Error {
  constructor(
    readonly operation: string,
    readonly conversationId: string | undefined,
    reason: string,
  ) {
    super(
      `conversation store: ${operation}${conversationId ? ` of ${conversationId}` : ''} failed: ${reason}`,
    );
    this.name = 'ConversationStoreError';
  }
}

export class CorruptConversationError extends Error {
  constructor(
    readonly conversationId: string,
    problem: string,
  ) {
    super(`conversation ${conversationId} is corrupt: ${problem}`);
    this.name = 'CorruptConversationError';
  }
}

export class ConversationLockTimeoutError extends Error {
  constructor(
    readonly conversationId: string,
    waitedMs: number,
  ) {
    super(`conversation ${conversationId} stayed locked for ${waitedMs} ms`);
    this.name = 'ConversationLockTimeoutError';
  }
}
