import { Injectable } from '@nestjs/common';

/** A stream item of a contact, about to be sent to the customer. */
export interface ContactItem {
  itemId: string;
  contactId: string;
}

/**
 * Finds the items of a contact that came before a given one but have not reached the relay
 * (SNS delivers late after a failed attempt, and sometimes not at all), and queues them.
 */
export interface MissingItemsSource {
  /** True when it queued any: they go first, so the item has lost its turn. */
  queueMissingBefore(conversationId: string, item: ContactItem): Promise<boolean>;
}

/**
 * The outbound worker's question before it sends a stream item. The stream side answers it
 * (it reads the transcript and routes items as if SNS had delivered them); it registers itself
 * here because it depends on the relay, not the other way round.
 */
@Injectable()
export class OutboundOrder {
  private source?: MissingItemsSource;

  answerWith(source: MissingItemsSource): void {
    this.source = source;
  }

  async queueMissingBefore(conversationId: string, item: ContactItem): Promise<boolean> {
    return (await this.source?.queueMissingBefore(conversationId, item)) ?? false;
  }
}

/**
 * The message waits, at the head of its lane, until `until` (epoch ms) or until the lane wakes
 * it: something it must follow is expected but has not arrived.
 */
export class HeldError extends Error {
  constructor(
    readonly until: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'HeldError';
  }
}

/** The message being delivered is no longer at the head of its lane: it waits its turn again. */
export class TurnTakenError extends Error {
  constructor() {
    super('earlier items were queued in front of this one');
    this.name = 'TurnTakenError';
  }
}
