import { Metrics } from '../ops/metrics';
import { RelayMetrics } from './relay-metrics';
import type { Queue } from 'bullmq';
import {
  type ChannelAdapter,
  type ChannelCapabilities,
  ChannelRegistry,
  ChannelSendError,
  type OutboundMessage,
} from '../channels/outbound';
import { AppConfig } from '../config';
import type { Conversation, ConversationService, ConversationTrace } from '../conversations';
import type { RedisConnections, RedisKeys } from '../redis';
import type { LaneMessage } from './conversation-lanes';
import type { LaneJob } from './lane-worker';
import type { OutboundItem } from './outbound-item';
import type { OutboundLanes } from './outbound-lanes';
import { type ContactItem, HeldError, OutboundOrder, TurnTakenError } from './outbound-order';
import { OutboundWorker } from './outbound-worker';

const env = {
  AWS_REGION: 'us-east-1',
  CONNECT_INSTANCE_ID: 'instance-1',
  CONNECT_CONTACT_FLOW_ID: 'flow-1',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:stream',
};
const config = AppConfig.fromEnv(env);

const conversation = {
  id: 'conv-1',
  state: 'active',
  channel: 'generic:app',
  customerAddress: '+15550001111',
  businessAddress: '+15559990000',
  initialContactId: 'contact-1',
  contactId: 'contact-1',
} as Conversation;

const job: LaneJob = { messageId: 'item-1', conversationId: 'conv-1' };

function setUp(options: {
  capabilities?: Partial<ChannelCapabilities>;
  link?: { url: string; expiresAt: number };
  conversation?: Conversation;
  /** What the transcript check finds: true when earlier items were missing and got queued. */
  missingBefore?: boolean;
  /** Whether the conversation's contact is being started (noted, not recorded yet). */
  starting?: boolean;
  config?: AppConfig;
}) {
  const sent: OutboundMessage[] = [];
  const asked: ContactItem[] = [];
  const order = new OutboundOrder();
  order.answerWith({
    queueMissingBefore: (_conversationId, item) => {
      asked.push(item);
      return Promise.resolve(options.missingBefore ?? false);
    },
  });
  const adapter = {
    capabilities: {
      maxTextLength: 20,
      markdown: false,
      attachments: true,
      ...options.capabilities,
    },
    send: (message: OutboundMessage) => {
      sent.push(message);
      return Promise.resolve({ providerMessageId: `provider-${message.id}` });
    },
  } as unknown as ChannelAdapter;
  const endContact = jest.fn().mockResolvedValue(true);
  const conversations = {
    readConversation: () =>
      Promise.resolve('conversation' in options ? options.conversation : conversation),
    attachmentLink: () => Promise.resolve(options.link),
    isStarting: () => Promise.resolve(options.starting ?? false),
    endContact,
  } as unknown as ConversationService;
  const trace = { append: () => Promise.resolve() } as unknown as ConversationTrace;
  const registry = { adapterFor: () => adapter } as unknown as ChannelRegistry;
  const metrics = new Metrics();
  const relayMetrics = new RelayMetrics(metrics);
  const worker = new OutboundWorker(
    options.config ?? config,
    {} as RedisConnections,
    {} as RedisKeys,
    {} as OutboundLanes,
    conversations,
    trace,
    registry,
    relayMetrics,
    order,
    { name: 'outbound' } as Queue<LaneJob>,
  );
  const parts: number[] = [];
  const deliver = (item: OutboundItem, partsDone = 0) => {
    const message: LaneMessage<OutboundItem> = { payload: item, acceptedAt: 0, partsDone };
    return worker.deliver(job, message, (done) => {
      parts.push(done);
      return Promise.resolve();
    });
  };
  return { worker, sent, parts, deliver, endContact, metrics, asked };
}

const text = (content: string, contentType = 'text/plain'): OutboundItem => ({
  kind: 'message',
  itemId: 'item-1',
  contactId: 'contact-1',
  text: content,
  contentType,
  attachments: [],
});

describe('OutboundWorker', () => {
  it('asks for missing earlier items before a stream item, and yields its turn when some were queued', async () => {
    const clear = setUp({ capabilities: { maxTextLength: 100 } });
    await clear.deliver(text('in order'));
    expect(clear.asked).toEqual([{ itemId: 'item-1', contactId: 'contact-1' }]);
    expect(clear.sent.map((m) => m.text)).toEqual(['in order']);

    const behind = setUp({ capabilities: { maxTextLength: 100 }, missingBefore: true });
    await expect(behind.deliver(text('too early'))).rejects.toBeInstanceOf(TurnTakenError);
    expect(behind.sent).toEqual([]);

    // A resumed message (parts already out) and the bridge's own notices (no contact) do not ask.
    const resumed = setUp({ capabilities: { maxTextLength: 100 }, missingBefore: true });
    await resumed.deliver(text('resumed'), 1);
    await resumed.deliver({
      kind: 'message',
      itemId: 'n-1',
      contentType: 'text/plain',
      text: 'notice',
      attachments: [],
    });
    expect(resumed.asked).toEqual([]);

    const unchecked = setUp({
      capabilities: { maxTextLength: 100 },
      missingBefore: true,
      config: AppConfig.fromEnv({ ...env, OUTBOUND_TRANSCRIPT_CHECK: 'false' }),
    });
    await unchecked.deliver(text('sent without looking back'));
    expect(unchecked.asked).toEqual([]);
    expect(unchecked.sent.map((m) => m.text)).toEqual(['sent without looking back']);
  });

  it('holds the items of a contact still being started, and fails those of no conversation', async () => {
    const starting = setUp({ conversation: undefined, starting: true });
    await expect(starting.deliver(text('welcome'))).rejects.toBeInstanceOf(HeldError);
    const gone = setUp({ conversation: undefined });
    const error = await gone.deliver(text('welcome')).catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(HeldError);
    expect(gone.worker.isPermanent(error)).toBe(true);
    expect([starting.sent, gone.sent]).toEqual([[], []]);
  });

  it("holds the live contact's items while the chat-ended item of the contact before is awaited", async () => {
    const endedAt = Date.now();
    const awaiting = {
      ...conversation,
      initialContactId: 'contact-2',
      contactId: 'contact-2',
      contactIds: ['contact-2'],
      lastEndedInitialContactId: 'contact-1',
      endedAt,
      endItemPending: true,
    } as Conversation;
    const ofContact = (contactId: string): OutboundItem => ({ ...text('hello'), contactId });

    const held = setUp({ conversation: awaiting });
    const error = await held.deliver(ofContact('contact-2')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HeldError);
    expect((error as HeldError).until).toBe(endedAt + 30_000);
    await expect(
      held.deliver({
        kind: 'end',
        itemId: 'e-2',
        initialContactId: 'contact-2',
        contactId: 'contact-2',
      }),
    ).rejects.toBeInstanceOf(HeldError);
    expect(held.sent).toEqual([]);
    expect(held.endContact).not.toHaveBeenCalled();

    // The old contact's own late items go; so does everything once the wait is over or off.
    await held.deliver(ofContact('contact-1'));
    const waited = setUp({ conversation: { ...awaiting, endedAt: endedAt - 30_001 } });
    await waited.deliver(ofContact('contact-2'));
    const off = setUp({
      conversation: awaiting,
      config: AppConfig.fromEnv({ ...env, OUTBOUND_ENDED_CONTACT_WAIT_MS: '0' }),
    });
    await off.deliver(ofContact('contact-2'));
    const arrived = setUp({ conversation: { ...awaiting, endItemPending: undefined } });
    await arrived.deliver(ofContact('contact-2'));
    expect([held, waited, off, arrived].map(({ sent }) => sent.length)).toEqual([1, 1, 1, 1]);
  });

  it('reduces markdown to plain text for a channel without markdown, and keeps it for one with', async () => {
    const plain = setUp({ capabilities: { maxTextLength: 100 } });
    await plain.deliver(text('**Hello** _there_', 'text/markdown'));
    expect(plain.sent.map((m) => m.text)).toEqual(['Hello there']);

    const rich = setUp({ capabilities: { maxTextLength: 100, markdown: true } });
    await rich.deliver(text('**Hello** _there_', 'text/markdown'));
    expect(rich.sent.map((m) => m.text)).toEqual(['**Hello** _there_']);

    await plain.deliver(text('2 * 3 = 6, **not** markdown'));
    expect(plain.sent[1].text).toBe('2 * 3 = 6, **not** markdown');
    const relayed = await plain.metrics.registry.getSingleMetricAsString(
      'csb_messages_relayed_total',
    );
    expect(relayed).toContain(
      'csb_messages_relayed_total{direction="outbound",channel="generic:app",outcome="delivered"} 2',
    );
  });

  it("splits text to the channel's limit with stable part ids, and resumes after the parts sent", async () => {
    const { sent, parts, deliver } = setUp({});
    await deliver(text('one two three four five six seven eight'));
    expect(sent.map((m) => [m.id, m.text])).toEqual([
      ['item-1/1', 'one two three four'],
      ['item-1/2', 'five six seven eight'],
    ]);
    expect(sent[0]).toMatchObject({
      channel: 'generic:app',
      customerAddress: '+15550001111',
      businessAddress: '+15559990000',
    });
    expect(parts).toEqual([1, 2]);

    const resumed = setUp({});
    await resumed.deliver(text('one two three four five six seven eight'), 1);
    expect(resumed.sent.map((m) => m.id)).toEqual(['item-1/2']);
  });

  it('sends an agent file by URL, as a link where the channel carries no files, and says so when it cannot be fetched', async () => {
    const file: OutboundItem = {
      kind: 'message',
      itemId: 'item-1',
      contactId: 'contact-1',
      contentType: 'text/plain',
      attachments: [{ attachmentId: 'a-1', name: 'invoice.pdf', contentType: 'application/pdf' }],
    };
    const link = { url: 'https://files.example.com/a-1', expiresAt: Date.now() + 60_000 };

    const byUrl = setUp({ link });
    await byUrl.deliver(file);
    expect(byUrl.sent).toEqual([
      expect.objectContaining({
        id: 'item-1',
        attachments: [{ url: link.url, contentType: 'application/pdf', name: 'invoice.pdf' }],
      }),
    ]);

    const asText = setUp({ link, capabilities: { attachments: false } });
    await asText.deliver(file);
    expect(asText.sent.map((m) => [m.text, m.attachments])).toEqual([
      ['invoice.pdf: https://files.example.com/a-1', []],
    ]);

    const gone = setUp({});
    await gone.deliver(file);
    expect(gone.sent.map((m) => m.text)).toEqual(['A file could not be delivered: invoice.pdf']);
  });

  it('ends the contact in its turn, and sends the chat-ended text only when one is set', async () => {
    const end = (notice?: string): OutboundItem => ({
      kind: 'end',
      itemId: 'end-1',
      initialContactId: 'contact-1',
      contactId: 'contact-1',
      notice,
    });
    const silent = setUp({ capabilities: { maxTextLength: 100 } });
    await silent.deliver(end());
    expect(silent.endContact).toHaveBeenCalledWith('conv-1', 'contact-1');
    expect(silent.sent).toEqual([]);

    const told = setUp({ capabilities: { maxTextLength: 100 } });
    await told.deliver(end('The chat has ended.'));
    expect(told.sent.map((m) => [m.id, m.text])).toEqual([['end-1', 'The chat has ended.']]);
  });

  it('tells passing refusals from final ones', async () => {
    const { worker } = setUp({});
    expect(worker.isPermanent(new ChannelSendError(true, 'HTTP 503', 503))).toBe(false);
    expect(worker.isPermanent(new ChannelSendError(false, 'HTTP 400', 400))).toBe(true);
    expect(worker.isPermanent(new Error('socket hang up'))).toBe(false);

    const orphan = setUp({ conversation: undefined });
    const error = await orphan.deliver(text('hi')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(orphan.worker.isPermanent(error)).toBe(true);
  });
});
