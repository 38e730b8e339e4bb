import type { RedisKeys } from '../redis';

/**
 * The Redis keys of the conversation state; the layout, with types and TTLs, is documented in
 * README.md beside this file. Every key starts with the configured hash tag (`{csb}`), so all
 * keys of one command, transaction or script live in one Cluster slot.
 */
export class ConversationKeys {
  constructor(private readonly keys: RedisKeys) {}

  record(conversationId: string): string {
    return this.keys.key('conv', conversationId);
  }

  credentials(conversationId: string): string {
    return this.keys.key('conv', conversationId, 'creds');
  }

  /** The previous version's tokens hash, read until the conversation's next write replaces it. */
  tokens(conversationId: string): string {
    return this.keys.key('conv', conversationId, 'tokens');
  }

  lock(conversationId: string): string {
    return this.keys.key('conv', conversationId, 'lock');
  }

  trace(conversationId: string): string {
    return this.keys.key('conv', conversationId, 'trace');
  }

  byContact(contactId: string): string {
    return this.keys.key('conv', 'by-contact', contactId);
  }

  starting(initialContactId: string): string {
    return this.keys.key('conv', 'starting', initialContactId);
  }

  byCustomer(customerAddress: string): string {
    return this.keys.key('conv', 'by-customer', customerAddress);
  }

  byCredentialExpiry(): string {
    return this.keys.key('conv', 'by-credential-expiry');
  }

  byActivity(): string {
    return this.keys.key('conv', 'by-activity');
  }
}
