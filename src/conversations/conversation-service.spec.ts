import { AppConfig } from '../config';
import { ConnectAccessDeniedError, type ConnectGateway } from '../connect';
import type { ActiveConversation, Conversation } from './conversation';
import { ConversationService } from './conversation-service';
import type { ConversationStore } from './conversation-store';
import type { ConversationTrace, NewTraceEvent } from './conversation-trace';

const config = AppConfig.fromEnv({
  AWS_REGION: 'us-east-1',
  CONNECT_INSTANCE_ID: 'instance-1',
  CONNECT_CONTACT_FLOW_ID: 'flow-1',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:stream',
  ENDED_GRACE_SECONDS: '600',
});

const active: ActiveConversation = {
  id: 'conv-1',
  state: 'active',
  channel: 'generic:app',
  customerAddress: '+15550001111',
  businessAddress: '+15559990000',
  initialContactId: 'contact-1',
  contactId: 'contact-2',
  contactIds: ['contact-1', 'contact-2'],
  participantId: 'participant-1',
  participantToken: 'participant-token',
  connectionToken: 'connection-token',
  connectionExpiresAt: Date.now() + 60_000,
  createdAt: 1,
  updatedAt: 1,
};

function setUp(options: { conversation?: Conversation; refused?: string[] } = {}) {
  const disconnects: [string, string][] = [];
  const events: NewTraceEvent[] = [];
  const gateway = {
    disconnect: (token: string, clientToken: string) => {
      disconnects.push([token, clientToken]);
      return (options.refused ?? []).includes(token)
        ? Promise.reject(new ConnectAccessDeniedError('DisconnectParticipant', 'expired'))
        : Promise.resolve();
    },
    connectParticipant: () =>
      (options.refused ?? []).includes('participant-token')
        ? Promise.reject(new ConnectAccessDeniedError('CreateParticipantConnection', 'refused'))
        : Promise.resolve({ connectionToken: 'fresh-token', expiresAt: Date.now() + 60_000 }),
  } as unknown as ConnectGateway;
  const markEnded = jest.fn().mockResolvedValue(true);
  const store = {
    get: () => Promise.resolve('conversation' in options ? options.conversation : active),
    markEnded,
    updateCredentials: () => Promise.resolve(true),
  } as unknown as ConversationStore;
  const trace = {
    append: (_id: string, event: NewTraceEvent) => Promise.resolve(void events.push(event)),
  } as unknown as ConversationTrace;
  const service = new ConversationService(config, gateway, store, trace);
  return { service, disconnects, events, markEnded };
}

describe('ConversationService.endByOperator', () => {
  it("disconnects the customer with the live connection, then closes that contact's conversation", async () => {
    const { service, disconnects, events, markEnded } = setUp();
    expect(await service.endByOperator('conv-1')).toBe('ended');
    expect(disconnects).toEqual([['connection-token', expect.stringMatching(/^[0-9a-f]{40}$/)]]);
    expect(markEnded).toHaveBeenCalledWith('conv-1', {
      graceSeconds: 600,
      initialContactId: 'contact-1',
    });
    expect(events).toEqual([
      { event: 'contact-ended', contactId: 'contact-2', reason: 'ended by an operator' },
    ]);

    const again = setUp();
    await again.service.endByOperator('conv-1');
    expect(again.disconnects[0][1]).toBe(disconnects[0][1]);
  });

  it('renews an expired connection to disconnect, and closes a contact Connect already ended', async () => {
    const renewed = setUp({ refused: ['connection-token'] });
    expect(await renewed.service.endByOperator('conv-1')).toBe('ended');
    expect(renewed.disconnects.map(([token]) => token)).toEqual([
      'connection-token',
      'fresh-token',
    ]);

    const over = setUp({ refused: ['connection-token', 'participant-token'] });
    expect(await over.service.endByOperator('conv-1')).toBe('ended');
    expect(over.markEnded).toHaveBeenCalled();
  });

  it('answers not-active without calling Connect when there is no live contact', async () => {
    const { service, disconnects, markEnded } = setUp({
      conversation: {
        ...active,
        state: 'ended',
        contactIds: [],
        lastEndedInitialContactId: 'contact-1',
        endedAt: 2,
      },
    });
    expect(await service.endByOperator('conv-1')).toBe('not-active');
    await expect(setUp({ conversation: undefined }).service.endByOperator('conv-2')).resolves.toBe(
      'not-active',
    );
    expect(disconnects).toEqual([]);
    expect(markEnded).not.toHaveBeenCalled();
  });
});
