import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import {
  type ChannelAdapter,
  ChannelRegistry,
  ChannelSendError,
  type OutboundMessage,
} from '../channels/outbound';
import { AppConfig } from '../config';
import { ConnectRejectedError } from '../connect';
import {
  type Conversation,
  ConversationService,
  ConversationTrace,
  splitText,
} from '../conversations';
import { RedisConnections, RedisKeys } from '../redis';
import type { LaneMessage } from './conversation-lanes';
import { type LaneJob, LaneWorker } from './lane-worker';
import type { AgentAttachment, OutboundItem } from './outbound-item';
import { outboundJobOptions } from './outbound-intake';
import { OutboundLanes } from './outbound-lanes';
import { HeldError, OutboundOrder, TurnTakenError } from './outbound-order';
import { markdownToPlainText } from './plain-text';
import { RelayMetrics } from './relay-metrics';

/** How soon an item of a contact still being started looks again. */
const STARTING_RECHECK_MS = 1_000;

/** An item that can never be sent (no conversation, no enabled channel). */
class UndeliverableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UndeliverableError';
  }
}

/**
 * Sends what agents, bots and flows write to the customer's channel, one lane head at a time
 * per conversation, and ends the contact when its turn comes. A message goes out as one or more
 * sends (text parts, then files); each one sent is recorded, so a retry resumes after it.
 */
@Injectable()
export class OutboundWorker extends LaneWorker<OutboundItem> {
  constructor(
    private readonly config: AppConfig,
    connections: RedisConnections,
    keys: RedisKeys,
    lanes: OutboundLanes,
    private readonly conversations: ConversationService,
    private readonly trace: ConversationTrace,
    private readonly channels: ChannelRegistry,
    private readonly metrics: RelayMetrics,
    private readonly order: OutboundOrder,
    @InjectQueue('outbound') queue: Queue<LaneJob>,
  ) {
    super(connections, keys, lanes, {
      queue,
      concurrency: config.relay.outboundConcurrency,
      // The chat-ended notice is the contact's last word: it waits longer for items SNS
      // redelivers late, which cannot be looked up once the chat is over.
      holdMs: (item) =>
        item.kind === 'end'
          ? Math.max(config.relay.outboundOrderWindowMs, config.relay.endNoticeWindowMs)
          : config.relay.outboundOrderWindowMs,
      lockMs: config.relay.jobLockMs,
      jobOptions: (messageId) => outboundJobOptions(config, messageId),
    });
  }

  async deliver(
    job: LaneJob,
    message: LaneMessage<OutboundItem>,
    recordPart: (parts: number) => Promise<void>,
  ): Promise<void> {
    const item = message.payload;
    const conversation = await this.conversations.readConversation(job.conversationId);
    if (!conversation) {
      // The contact's first items (the flow's greeting) can come before a start slowed by
      // throttling, or taken over from a dead process, has recorded it.
      if (
        item.contactId &&
        (await this.conversations.isStarting(job.conversationId, item.contactId))
      ) {
        throw new HeldError(
          Date.now() + STARTING_RECHECK_MS,
          'waiting for its contact to be recorded',
        );
      }
      throw new UndeliverableError('the conversation no longer exists');
    }
    const heldUntil = this.endedContactWait(conversation, item);
    if (heldUntil > Date.now()) {
      throw new HeldError(heldUntil, "waiting for the previous contact's chat-ended item");
    }
    if (item.kind === 'end') {
      await this.conversations.endContact(conversation.id, item.initialContactId);
      if (!item.notice) return;
    }
    const checkOrder = this.config.relay.transcriptCheck && message.partsDone === 0;
    if (checkOrder && item.kind === 'message' && item.contactId) {
      const stream = { itemId: item.itemId, contactId: item.contactId };
      if (await this.order.queueMissingBefore(conversation.id, stream)) throw new TurnTakenError();
    }
    const adapter = this.adapterOf(conversation);
    const sends = await this.compose(conversation, item, adapter);
    for (let index = message.partsDone; index < sends.length; index++) {
      const receipt = await adapter.send(sends[index]);
      await recordPart(index + 1);
      await this.trace.append(conversation.id, {
        event: 'delivered',
        direction: 'outbound',
        connectMessageId: item.itemId,
        providerMessageId: receipt.providerMessageId,
        part: index + 1,
        parts: sends.length,
      });
    }
    this.metrics.delivered('outbound', conversation.channel, message.acceptedAt);
  }

  /**
   * Until when an item of the live contact waits because the contact before it was found over
   * (Connect refused its participant) while its chat-ended item had not arrived: SNS delivers
   * it, and the old contact's last items, late; the customer should get them first. Their turn
   * comes first once they arrive (earlier AbsoluteTime), and the end's item clears the wait.
   */
  private endedContactWait(conversation: Conversation, item: OutboundItem): number {
    if (conversation.state !== 'active' || !conversation.endItemPending) return 0;
    if (!item.contactId || !conversation.contactIds.includes(item.contactId)) return 0;
    return (conversation.endedAt ?? 0) + this.config.relay.endedContactWaitMs;
  }

  isPermanent(error: unknown): boolean {
    if (error instanceof ChannelSendError) return !error.retryable;
    return error instanceof UndeliverableError;
  }

  async recordRetry(job: LaneJob, item: OutboundItem, attempt: number, reason: string) {
    this.metrics.retried('outbound', await this.channelOf(job));
    return this.trace.append(job.conversationId, {
      event: 'retried',
      direction: 'outbound',
      connectMessageId: item.itemId,
      attempt,
      reason,
    });
  }

  async recordFailure(job: LaneJob, item: OutboundItem | undefined, reason: string) {
    this.metrics.failed('outbound', await this.channelOf(job));
    return this.trace.append(job.conversationId, {
      event: 'failed',
      direction: 'outbound',
      connectMessageId: item?.itemId,
      reason,
    });
  }

  /** The label of the metrics; the conversation is read again only on retries and failures. */
  private async channelOf(job: LaneJob): Promise<string> {
    const conversation = await this.conversations.readConversation(job.conversationId);
    return conversation?.channel ?? 'unknown';
  }

  private adapterOf(conversation: Conversation): ChannelAdapter {
    try {
      return this.channels.adapterFor(conversation.channel);
    } catch (error) {
      throw new UndeliverableError((error as Error).message);
    }
  }

  /** The sends one item makes: its text in parts the channel takes, then one per file. */
  private async compose(
    conversation: Conversation,
    item: OutboundItem,
    adapter: ChannelAdapter,
  ): Promise<OutboundMessage[]> {
    const { capabilities } = adapter;
    const base = {
      channel: conversation.channel,
      customerAddress: conversation.customerAddress,
      businessAddress: conversation.businessAddress,
      attachments: [],
    };
    let text = item.kind === 'end' ? item.notice : item.text;
    if (text && item.kind === 'message' && item.contentType === 'text/markdown') {
      text = capabilities.markdown ? text : markdownToPlainText(text);
    }
    const bodies: Omit<OutboundMessage, 'id' | keyof typeof base>[] = splitText(
      text ?? '',
      capabilities.maxTextLength,
    ).map((part) => ({ text: part }));
    if (item.kind === 'message') {
      for (const attachment of item.attachments) {
        bodies.push(await this.attachmentBody(conversation, attachment, capabilities.attachments));
      }
    }
    return bodies.map((body, index) => ({
      ...base,
      ...body,
      id: bodies.length > 1 ? `${item.itemId}/${index + 1}` : item.itemId,
    }));
  }

  /** The file by URL where the channel carries files, else a text with the link; never dropped. */
  private async attachmentBody(
    conversation: Conversation,
    attachment: AgentAttachment,
    channelCarriesFiles: boolean,
  ): Promise<Pick<OutboundMessage, 'text' | 'attachments'>> {
    const name = attachment.name.slice(0, 200);
    let link;
    try {
      link = await this.conversations.attachmentLink(conversation.id, attachment.attachmentId);
    } catch (error) {
      if (!(error instanceof ConnectRejectedError)) throw error;
      this.logger.warn({ reason: error.message }, 'an agent file cannot be fetched');
    }
    if (!link) return { text: `A file could not be delivered: ${name}`, attachments: [] };
    if (!channelCarriesFiles) return { text: `${name}: ${link.url}`, attachments: [] };
    return {
      attachments: [{ url: link.url, contentType: attachment.contentType, name }],
    };
  }
}
