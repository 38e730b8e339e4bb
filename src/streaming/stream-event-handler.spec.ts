import { Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import type {
  ActiveConversation,
  Conversation,
  ConversationService,
  ConversationStore,
  ConversationTrace,
  NewTraceEvent,
  StreamContactLookup,
} from '../conversations';
import { Metrics } from '../ops';
import type { OutboundIntake, OutboundItem } from '../relay';
import { StreamEventHandler } from './stream-event-handler';
import type { VerifiedNotification } from './verified-sns-message';

const env = {
  AWS_REGION: 'eu-west-2',
  CONNECT_INSTANCE_ID: 'instance-1',
  CONNECT_CONTACT_FLOW_ID: 'flow-1',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:eu-west-2:123456789012:connect-stream',
};
const EVENT = 'application/vnd.amazonaws.connect.event.';
const CONVERSATION_ID = 'conv-1';
const INITIAL = 'initial-1';
const TIME = '2026-11-21T10:00:00.000Z';

const conversation = (fields: Partial<ActiveConversation> = {}): Conversation => ({
  id: CONVERSATION_ID,
  channel: 'generic:app',
  customerAddress: '+15550001111',
  businessAddress: '+15559990000',
  state: 'active',
  initialContactId: INITIAL,
  contactId: INITIAL,
  contactIds: [INITIAL],
  participantId: 'participant-1',
  participantToken: 'participant-token',
  connectionToken: 'connection-token',
  connectionExpiresAt: Date.now() + 3_600_000,
  createdAt: 0,
  updatedAt: 0,
  ...fields,
});

/** A stream item as Amazon Connect writes it; by default an agent's text message. */
const item = (fields: Record<string, unknown> = {}) => ({
  AbsoluteTime: TIME,
  Content: 'Hi, Sam here.',
  ContentType: 'text/plain',
  Id: 'item-1',
  Type: 'MESSAGE',
  ParticipantId: 'agent-participant',
  ParticipantRole: 'AGENT',
  DisplayName: 'Sam',
  InitialContactId: INITIAL,
  ContactId: INITIAL,
  ...fields,
});

const notification = (
  body: Record<string, unknown> | string,
  attributes: Record<string, string> = {},
): VerifiedNotification => ({
  kind: 'notification',
  messageId: 'sns-message-1',
  topicArn: env.CONNECT_STREAMING_TOPIC_ARN,
  message: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: { MessageVisibility: 'ALL', ...attributes },
  timestamp: TIME,
});

function setUp(
  options: {
    env?: Record<string, string>;
    conversation?: Conversation;
    /** Conversation ids by contact id; by default INITIAL → CONVERSATION_ID. */
    byContact?: Record<string, string>;
    /** Conversation ids by the InitialContactId of a contact being started. */
    starting?: Record<string, string>;
    accept?: 'accepted' | 'duplicate';
  } = {},
) {
  const byContact = options.byContact ?? { [INITIAL]: CONVERSATION_ID };
  const store = {
    lookUpStreamContact: jest.fn(
      (initialContactId: string, contactId: string): Promise<StreamContactLookup> =>
        Promise.resolve({
          conversationId: byContact[initialContactId] ?? byContact[contactId],
          contactIdIndexed: contactId in byContact,
          startingConversationId: options.starting?.[initialContactId],
        }),
    ),
    addContactId: jest.fn(() => Promise.resolve()),
  };
  const conversations = {
    readConversation: jest.fn((id: string) =>
      Promise.resolve(
        id === CONVERSATION_ID ? (options.conversation ?? conversation()) : undefined,
      ),
    ),
  };
  const trace = {
    append: jest.fn((_conversationId: string, _event: NewTraceEvent) => Promise.resolve()),
  };
  const outbound = {
    accept: jest.fn((_conversationId: string, _item: OutboundItem, _absoluteTime: string) =>
      Promise.resolve(options.accept ?? 'accepted'),
    ),
  };
  const handler = new StreamEventHandler(
    AppConfig.fromEnv({ ...env, ...options.env }),
    store as unknown as ConversationStore,
    conversations as unknown as ConversationService,
    trace as unknown as ConversationTrace,
    outbound as unknown as OutboundIntake,
    new Metrics(),
  );
  return { handler, store, conversations, trace, outbound };
}

describe('StreamEventHandler', () => {
  let warnings: jest.SpyInstance;

  beforeEach(() => {
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => {});
  });

  afterEach(() => jest.restoreAllMocks());

  it('answers invalid for a Message that is not JSON, and queues nothing', async () => {
    const { handler, store, outbound } = setUp();
    await expect(handler.handle(notification('{not json'))).resolves.toBe('invalid');
    expect(store.lookUpStreamContact).not.toHaveBeenCalled();
    expect(outbound.accept).not.toHaveBeenCalled();
    expect(warnings).toHaveBeenCalledWith(
      { messageId: 'sns-message-1', reason: 'the Message is not JSON' },
      'not a stream item',
    );
  });

  it('answers invalid for JSON that is not a stream item', async () => {
    const { handler, outbound } = setUp();
    await expect(handler.handle(notification({ hello: 'world' }))).resolves.toBe('invalid');
    expect(outbound.accept).not.toHaveBeenCalled();
  });

  it('answers not-ours for a contact no conversation knows', async () => {
    const { handler, store, conversations, outbound } = setUp();
    const outcome = await handler.handle(
      notification(item({ InitialContactId: 'elsewhere-1', ContactId: 'elsewhere-2' })),
    );
    expect(outcome).toBe('not-ours');
    expect(store.lookUpStreamContact.mock.calls).toEqual([['elsewhere-1', 'elsewhere-2']]);
    expect(conversations.readConversation).not.toHaveBeenCalled();
    expect(outbound.accept).not.toHaveBeenCalled();
  });

  it('queues an agent message meant for everyone, at its AbsoluteTime', async () => {
    const { handler, store, outbound, trace } = setUp();
    await expect(handler.handle(notification(item()))).resolves.toBe('queued');
    expect(outbound.accept).toHaveBeenCalledTimes(1);
    expect(outbound.accept).toHaveBeenCalledWith(
      CONVERSATION_ID,
      {
        kind: 'message',
        itemId: 'item-1',
        contactId: INITIAL,
        text: 'Hi, Sam here.',
        contentType: 'text/plain',
        attachments: [],
      },
      TIME,
    );
    expect(store.addContactId).not.toHaveBeenCalled();
    expect(trace.append).not.toHaveBeenCalled();
  });

  it('queues markdown as markdown (the worker converts it per channel)', async () => {
    const { handler, outbound } = setUp();
    await handler.handle(notification(item({ ContentType: 'text/markdown', Content: '**hi**' })));
    expect(outbound.accept.mock.calls[0][1]).toMatchObject({
      text: '**hi**',
      contentType: 'text/markdown',
    });
  });

  it('does not send the customer their own message, nor read the conversation for it', async () => {
    const { handler, conversations, outbound } = setUp();
    const outcome = await handler.handle(
      notification(item({ ParticipantRole: 'CUSTOMER', DisplayName: 'Ada' })),
    );
    expect(outcome).toBe('not-for-customer');
    expect(conversations.readConversation).not.toHaveBeenCalled();
    expect(outbound.accept).not.toHaveBeenCalled();
  });

  it('records the new ContactId of a transfer from the customer’s own message too', async () => {
    const { handler, store, conversations, trace, outbound } = setUp();
    const outcome = await handler.handle(
      notification(
        item({ ParticipantRole: 'CUSTOMER', ContactId: 'transferred-1', Type: 'ATTACHMENT' }),
      ),
    );
    expect(outcome).toBe('not-for-customer');
    expect(conversations.readConversation).toHaveBeenCalledWith(CONVERSATION_ID);
    expect(store.addContactId).toHaveBeenCalledWith(CONVERSATION_ID, 'transferred-1');
    expect(trace.append).toHaveBeenCalledWith(CONVERSATION_ID, {
      event: 'contact-transferred',
      contactId: 'transferred-1',
    });
    expect(outbound.accept).not.toHaveBeenCalled();
  });

  it('reads the conversation for other items of the customer, such as joining', async () => {
    const { handler, conversations } = setUp();
    const outcome = await handler.handle(
      notification(
        item({
          Type: 'EVENT',
          ContentType: `${EVENT}participant.joined`,
          ParticipantRole: 'CUSTOMER',
        }),
      ),
    );
    expect(outcome).toBe('ignored');
    expect(conversations.readConversation).toHaveBeenCalledWith(CONVERSATION_ID);
  });

  it('does not send a message only agents may see', async () => {
    const { handler, outbound } = setUp();
    const outcome = await handler.handle(
      notification(item({ Content: 'internal note' }), { MessageVisibility: 'AGENT' }),
    );
    expect(outcome).toBe('not-for-customer');
    expect(outbound.accept).not.toHaveBeenCalled();
  });

  it('queues a SYSTEM message', async () => {
    const { handler, outbound } = setUp();
    const outcome = await handler.handle(
      notification(
        item({
          Id: 'system-1',
          ParticipantRole: 'SYSTEM',
          DisplayName: 'SYSTEM_MESSAGE',
          Content: 'You are number 2 in the queue.',
        }),
      ),
    );
    expect(outcome).toBe('queued');
    expect(outbound.accept).toHaveBeenCalledWith(
      CONVERSATION_ID,
      expect.objectContaining({
        kind: 'message',
        itemId: 'system-1',
        text: 'You are number 2 in the queue.',
      }),
      TIME,
    );
  });

  it('drops a message whose content type a customer cannot get, and traces why', async () => {
    const { handler, outbound, trace } = setUp();
    const outcome = await handler.handle(
      notification(item({ Id: 'json-1', ContentType: 'application/json', Content: '{"a":1}' })),
    );
    expect(outcome).toBe('unsupported-content');
    expect(outbound.accept).not.toHaveBeenCalled();
    expect(trace.append).toHaveBeenCalledWith(CONVERSATION_ID, {
      event: 'dropped',
      direction: 'outbound',
      connectMessageId: 'json-1',
      reason: 'content type application/json cannot be sent to the customer',
    });
  });

  it('records the ContactId a transfer gave the live contact, and sends on', async () => {
    const { handler, store, outbound, trace } = setUp();
    const outcome = await handler.handle(
      notification(item({ Id: 'after-transfer', ContactId: 'transferred-1' })),
    );
    expect(outcome).toBe('queued');
    expect(store.lookUpStreamContact).toHaveBeenCalledWith(INITIAL, 'transferred-1');
    expect(store.addContactId).toHaveBeenCalledWith(CONVERSATION_ID, 'transferred-1');
    expect(trace.append).toHaveBeenCalledWith(CONVERSATION_ID, {
      event: 'contact-transferred',
      contactId: 'transferred-1',
    });
    expect(outbound.accept).toHaveBeenCalledWith(
      CONVERSATION_ID,
      expect.objectContaining({ itemId: 'after-transfer', contactId: 'transferred-1' }),
      TIME,
    );
  });

  it('does not record a ContactId the conversation already has', async () => {
    const { handler, store, trace } = setUp({
      conversation: conversation({
        contactId: 'transferred-1',
        contactIds: [INITIAL, 'transferred-1'],
      }),
    });
    await handler.handle(notification(item({ ContactId: 'transferred-1' })));
    expect(store.addContactId).not.toHaveBeenCalled();
    expect(trace.append).not.toHaveBeenCalled();
  });

  const joined = (fields: Record<string, unknown> = {}) =>
    item({
      Id: 'joined-1',
      Type: 'EVENT',
      ContentType: `${EVENT}participant.joined`,
      Content: undefined,
      ...fields,
    });

  it('queues AGENT_JOINED_MESSAGE with the agent name when an agent joins', async () => {
    const { handler, outbound } = setUp({ env: { AGENT_JOINED_MESSAGE: '{name} joined' } });
    await expect(handler.handle(notification(joined()))).resolves.toBe('queued');
    expect(outbound.accept).toHaveBeenCalledWith(
      CONVERSATION_ID,
      {
        kind: 'message',
        itemId: 'joined-1',
        contactId: INITIAL,
        text: 'Sam joined',
        contentType: 'text/plain',
        attachments: [],
      },
      TIME,
    );
  });

  it('ignores an agent joining without AGENT_JOINED_MESSAGE', async () => {
    const { handler, outbound } = setUp();
    await expect(handler.handle(notification(joined()))).resolves.toBe('ignored');
    expect(outbound.accept).not.toHaveBeenCalled();
  });

  it('ignores the customer joining, whatever AGENT_JOINED_MESSAGE says', async () => {
    const { handler, outbound } = setUp({ env: { AGENT_JOINED_MESSAGE: '{name} joined' } });
    const outcome = await handler.handle(
      notification(joined({ ParticipantRole: 'CUSTOMER', DisplayName: 'Ada' })),
    );
    expect(outcome).toBe('ignored');
    expect(outbound.accept).not.toHaveBeenCalled();
  });

  const ended = (fields: Record<string, unknown> = {}) =>
    item({
      Id: 'ended-1',
      Type: 'EVENT',
      ContentType: `${EVENT}chat.ended`,
      Content: undefined,
      ParticipantRole: 'SYSTEM',
      DisplayName: undefined,
      ...fields,
    });

  it('queues the end of the live contact with CHAT_ENDED_MESSAGE', async () => {
    const { handler, outbound } = setUp({ env: { CHAT_ENDED_MESSAGE: 'The chat has ended.' } });
    await expect(handler.handle(notification(ended()))).resolves.toBe('queued');
    expect(outbound.accept).toHaveBeenCalledWith(
      CONVERSATION_ID,
      {
        kind: 'end',
        itemId: 'ended-1',
        initialContactId: INITIAL,
        contactId: INITIAL,
        notice: 'The chat has ended.',
      },
      TIME,
    );
  });

  it('answers stale-contact for the end of a contact the conversation has moved on from', async () => {
    const { handler, store, outbound } = setUp({
      conversation: conversation({
        initialContactId: 'initial-2',
        contactId: 'initial-2',
        contactIds: ['initial-2'],
      }),
    });
    const outcome = await handler.handle(notification(ended()));
    expect(outcome).toBe('stale-contact');
    expect(store.addContactId).not.toHaveBeenCalled();
    expect(outbound.accept).not.toHaveBeenCalled();
  });

  it('queues the late end of the contact found over before its end arrived, while a new one is live', async () => {
    const moved = {
      initialContactId: 'initial-2',
      contactId: 'initial-2',
      contactIds: ['initial-2'],
    };
    const awaited = setUp({
      env: { CHAT_ENDED_MESSAGE: 'The chat has ended.' },
      conversation: conversation({
        ...moved,
        lastEndedInitialContactId: INITIAL,
        endedAt: Date.now(),
        endItemPending: true,
      }),
    });
    await expect(awaited.handler.handle(notification(ended()))).resolves.toBe('queued');
    expect(awaited.outbound.accept).toHaveBeenCalledWith(
      CONVERSATION_ID,
      expect.objectContaining({
        kind: 'end',
        initialContactId: INITIAL,
        notice: 'The chat has ended.',
      }),
      TIME,
    );

    // The end of an older contact, or one whose end already came, stays stale.
    for (const pending of [
      { lastEndedInitialContactId: 'initial-0', endItemPending: true as const },
      { lastEndedInitialContactId: INITIAL },
    ]) {
      const { handler, outbound } = setUp({
        conversation: conversation({ ...moved, endedAt: Date.now(), ...pending }),
      });
      await expect(handler.handle(notification(ended()))).resolves.toBe('stale-contact');
      expect(outbound.accept).not.toHaveBeenCalled();
    }
  });

  /** The flow's greeting, the first item of a contact being started. */
  const greeting = item({
    InitialContactId: 'initial-2',
    ContactId: 'initial-2',
    ParticipantRole: 'SYSTEM',
    DisplayName: 'SYSTEM_MESSAGE',
    Content: 'Thanks for reaching out.',
  });

  it('queues the first items of a contact still being started, before the conversation records it', async () => {
    // Connect streams the flow's greeting once the customer is connected, which can be before
    // the contact is saved: the conversation is then unknown (a first contact) or still on its
    // previous contact, and only the start marker tells where the item belongs.
    const first = setUp({ byContact: {}, starting: { 'initial-2': 'conv-new' } });
    await expect(first.handler.handle(notification(greeting))).resolves.toBe('queued');
    expect(first.outbound.accept).toHaveBeenCalledWith(
      'conv-new',
      expect.objectContaining({ kind: 'message', text: 'Thanks for reaching out.' }),
      TIME,
    );
    const again = setUp({
      env: { AGENT_JOINED_MESSAGE: '{name} joined' },
      conversation: {
        ...conversation(),
        state: 'ended',
        contactIds: [],
        lastEndedInitialContactId: INITIAL,
        endedAt: 1,
      } as Conversation,
      starting: { 'initial-2': CONVERSATION_ID },
    });
    const joined = item({
      InitialContactId: 'initial-2',
      ContactId: 'initial-2',
      Type: 'EVENT',
      ContentType: `${EVENT}participant.joined`,
      Content: undefined,
    });
    await expect(again.handler.handle(notification(joined))).resolves.toBe('queued');
    expect(again.store.addContactId).not.toHaveBeenCalled();
    const unknown = setUp({ byContact: {}, starting: {} });
    await expect(unknown.handler.handle(notification(greeting))).resolves.toBe('not-ours');
  });

  it('places a first item by one reading of the indexes while saveContact replaces the marker', async () => {
    // saveContact indexes the contact and removes its start marker at once. The item must land
    // on its conversation whether the indexes were read before the save (marker only) or after
    // (index only), and a second read after the save must not be needed: it could find neither.
    const saved = conversation({
      id: 'conv-new',
      initialContactId: 'initial-2',
      contactId: 'initial-2',
      contactIds: ['initial-2'],
    });
    for (const before of [true, false]) {
      const { handler, store, conversations, outbound } = setUp({
        byContact: before ? {} : { 'initial-2': 'conv-new' },
        starting: before ? { 'initial-2': 'conv-new' } : {},
      });
      // The save completes right after the indexes were read.
      conversations.readConversation.mockImplementation((id: string) =>
        Promise.resolve(id === 'conv-new' ? saved : undefined),
      );
      await expect(handler.handle(notification(greeting))).resolves.toBe('queued');
      expect(store.lookUpStreamContact).toHaveBeenCalledTimes(1);
      expect(outbound.accept).toHaveBeenCalledWith(
        'conv-new',
        expect.objectContaining({ text: 'Thanks for reaching out.' }),
        TIME,
      );
      expect(store.addContactId).not.toHaveBeenCalled();
    }
  });

  it('answers duplicate when the item was queued before', async () => {
    const { handler, outbound } = setUp({ accept: 'duplicate' });
    await expect(handler.handle(notification(item()))).resolves.toBe('duplicate');
    expect(outbound.accept).toHaveBeenCalledTimes(1);
  });

  it('lets a store failure through, so that the endpoint answers 503', async () => {
    const { handler, store, outbound } = setUp();
    const failure = new Error('Redis is unreachable');
    store.lookUpStreamContact.mockRejectedValueOnce(failure);
    await expect(handler.handle(notification(item()))).rejects.toBe(failure);
    expect(outbound.accept).not.toHaveBeenCalled();
  });

  it('lets a queue failure through as well', async () => {
    const { handler, outbound } = setUp();
    const failure = new Error('Redis is unreachable');
    outbound.accept.mockRejectedValueOnce(failure);
    await expect(handler.handle(notification(item()))).rejects.toBe(failure);
  });

  it('counts what became of each item', async () => {
    const metrics = new Metrics();
    const config = AppConfig.fromEnv(env);
    const store = {
      lookUpStreamContact: () =>
        Promise.resolve({ conversationId: CONVERSATION_ID, contactIdIndexed: true }),
      addContactId: () => Promise.resolve(),
    };
    const handler = new StreamEventHandler(
      config,
      store as unknown as ConversationStore,
      { readConversation: () => Promise.resolve(conversation()) } as unknown as ConversationService,
      { append: () => Promise.resolve() } as unknown as ConversationTrace,
      { accept: () => Promise.resolve('accepted') } as unknown as OutboundIntake,
      metrics,
    );
    await handler.handle(notification(item()));
    await handler.handle(notification('nope'));
    const counted = await metrics.registry.getSingleMetricAsString('connect_stream_events_total');
    expect(counted).toContain('connect_stream_events_total{kind="message",outcome="queued"} 1');
    expect(counted).toContain('connect_stream_events_total{kind="unknown",outcome="invalid"} 1');
  });
});
