import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { ConnectRejectedError } from '../connect';
import { ConversationService } from '../conversations';
import { Metrics } from '../ops';
import { type ContactItem, type MissingItemsSource, OutboundIntake, OutboundOrder } from '../relay';
import { type ConnectStreamEvent, streamEventOfTranscript } from './connect-stream-event';
import { carriesSendableContent, StreamEventHandler } from './stream-event-handler';

/** How far back the transcript is read: SNS's stragglers are the last few items. */
const LOOK_BACK = 15;

/**
 * Before an item of a contact goes to the customer, reads the customer's transcript just before
 * it. An earlier item meant for the customer that the relay has never seen (SNS retries a failed
 * delivery after seconds or more, and may give up) is routed as if SNS had delivered it, so it
 * goes first; when SNS does deliver it, it is a duplicate.
 */
@Injectable()
export class TranscriptCatchUp implements MissingItemsSource, OnModuleInit {
  private readonly checks: Counter<'outcome'>;

  constructor(
    private readonly order: OutboundOrder,
    private readonly conversations: ConversationService,
    private readonly intake: OutboundIntake,
    private readonly handler: StreamEventHandler,
    metrics: Metrics,
  ) {
    this.checks = metrics.counter(
      'csb_outbound_order_checks_total',
      'Transcript reads before an agent message goes out: in-order, caught-up (earlier items SNS had not delivered were queued first), behind (an earlier item arrived meanwhile and goes first), contact-over (no live contact to read), unreadable (Connect refused the read)',
      ['outcome'],
    );
  }

  onModuleInit(): void {
    this.order.answerWith(this);
  }

  async queueMissingBefore(conversationId: string, item: ContactItem): Promise<boolean> {
    const read = await this.conversations
      .itemsBefore(conversationId, item.contactId, item.itemId, LOOK_BACK)
      .catch((error: unknown) => {
        // The transcript does not know the item: nothing to compare with, and no reason to hold it.
        if (error instanceof ConnectRejectedError) return 'unreadable' as const;
        throw error;
      });
    if (!read || read === 'unreadable') {
      this.checks.inc({ outcome: read ?? 'contact-over' });
      return false;
    }
    const candidates = read.items
      .map((earlier) => streamEventOfTranscript(earlier, read.initialContactId, item.contactId))
      .filter(meantForCustomer);
    const statuses = await this.intake.itemStatuses(candidates.map((event) => event.id));
    let queued = false;
    for (const event of candidates.filter(
      (candidate) => statuses.get(candidate.id) === undefined,
    )) {
      if ((await this.handler.route(event)) === 'queued') queued = true;
    }
    // One SNS delivered while this item was already on its way: it is ahead in the lane now.
    const behind = [...statuses.values()].includes('pending');
    this.checks.inc({ outcome: queued ? 'caught-up' : behind ? 'behind' : 'in-order' });
    return queued || behind;
  }
}

function meantForCustomer(event: ConnectStreamEvent): boolean {
  if (event.participantRole === 'CUSTOMER') return false;
  return carriesSendableContent(event) || event.kind === 'participant-joined';
}
