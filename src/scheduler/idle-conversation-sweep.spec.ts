import { Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import type {
  ConversationActivity,
  ConversationService,
  ConversationStore,
} from '../conversations';
import type { OutboundIntake, OutboundItem } from '../relay';
import { IdleConversationSweep } from './idle-conversation-sweep';
import { RateGate } from './rate-gate';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const MINUTE = 60_000;

const configWith = (idleTimeoutMinutes: string, idleEndedMessage?: string) =>
  AppConfig.fromEnv({
    ...(idleEndedMessage ? { IDLE_ENDED_MESSAGE: idleEndedMessage } : {}),
    AWS_REGION: 'us-east-1',
    CONNECT_INSTANCE_ID: 'instance-1',
    CONNECT_CONTACT_FLOW_ID: 'flow-1',
    CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:stream',
    IDLE_TIMEOUT_MINUTES: idleTimeoutMinutes,
  });

/**
 * The activity index as the store answers it, the clock at NOW. `active` conversations stay
 * in the index until ended; the others are stale and leave it on dropStaleIndexEntry.
 */
function setUp(options: {
  timeoutMinutes: string;
  activity: Record<string, number>;
  active: string[];
  /** Activity recorded after the page was read, before the sweep looks again. */
  laterActivity?: Record<string, number>;
  notice?: string;
}) {
  const activity = new Map(Object.entries(options.activity));
  const store = {
    lastActiveBefore: jest.fn((before: number, limit: number, { after }: { after?: number }) =>
      Promise.resolve(
        [...activity]
          .map(([conversationId, lastActivityAt]): ConversationActivity => ({
            conversationId,
            lastActivityAt,
          }))
          .filter((entry) => entry.lastActivityAt < before)
          .filter((entry) => after === undefined || entry.lastActivityAt > after)
          .sort((a, b) => a.lastActivityAt - b.lastActivityAt)
          .slice(0, limit),
      ),
    ),
    dropStaleIndexEntry: jest.fn((_index: string, id: string, notAfter: number) => {
      const stale = !options.active.includes(id) && (activity.get(id) ?? Infinity) <= notAfter;
      if (stale) activity.delete(id);
      return Promise.resolve(stale);
    }),
    lastActivityAt: jest.fn((id: string) =>
      Promise.resolve(options.laterActivity?.[id] ?? activity.get(id)),
    ),
  };
  const disconnectContact = jest.fn((id: string) => {
    activity.delete(id);
    return Promise.resolve('ended' as const);
  });
  const accept = jest.fn((_conversationId: string, _item: OutboundItem, _at: string) =>
    Promise.resolve('accepted' as const),
  );
  const sweep = new IdleConversationSweep(
    configWith(options.timeoutMinutes, options.notice),
    store as unknown as ConversationStore,
    { disconnectContact } as unknown as ConversationService,
    { accept } as unknown as OutboundIntake,
  );
  return { sweep, store, disconnectContact, accept };
}

const running = () => new AbortController().signal;

beforeAll(() => {
  Logger.overrideLogger(false);
});
beforeEach(() => {
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
  jest.spyOn(RateGate.prototype, 'pass').mockResolvedValue(true);
});
afterEach(() => jest.restoreAllMocks());

describe('IdleConversationSweep', () => {
  it('is off by default and looks every quarter of the timeout, between 1 s and 1 min', () => {
    const intervalFor = (minutes: string) =>
      new IdleConversationSweep(
        configWith(minutes),
        {} as ConversationStore,
        {} as ConversationService,
        {} as OutboundIntake,
      ).intervalMs;
    expect(intervalFor('0')).toBe(0);
    expect(intervalFor('0.05')).toBe(1_000);
    expect(intervalFor('1')).toBe(15_000);
    expect(intervalFor('30')).toBe(60_000);
  });

  it('ends the active conversations silent for longer than the timeout, with the reason', async () => {
    const { sweep, store, disconnectContact } = setUp({
      timeoutMinutes: '30',
      activity: {
        'idle-long': NOW - 120 * MINUTE,
        'idle-just': NOW - 31 * MINUTE,
        talking: NOW - 29 * MINUTE,
        'talking-now': NOW - 1_000,
      },
      active: ['idle-long', 'idle-just', 'talking', 'talking-now'],
    });
    const counts = await sweep.run(running());
    expect(store.lastActiveBefore).toHaveBeenCalledWith(NOW - 30 * MINUTE, 100, {
      after: undefined,
    });
    expect(disconnectContact.mock.calls).toEqual([
      ['idle-long', 'idle for 30 minutes'],
      ['idle-just', 'idle for 30 minutes'],
    ]);
    expect(counts).toEqual({ ended: 2, stale: 0, active: 0, failed: 0 });
  });

  it('tells the customer with IDLE_ENDED_MESSAGE, once per quiet spell, and only when it is set', async () => {
    const silent = setUp({
      timeoutMinutes: '30',
      activity: { quiet: NOW - 40 * MINUTE },
      active: ['quiet'],
    });
    await silent.sweep.run(running());
    expect(silent.accept).not.toHaveBeenCalled();

    const told = setUp({
      timeoutMinutes: '30',
      activity: { quiet: NOW - 40 * MINUTE },
      active: ['quiet'],
      notice: 'We closed this chat.',
    });
    await told.sweep.run(running());
    expect(told.accept.mock.calls).toEqual([
      [
        'quiet',
        {
          kind: 'message',
          itemId: `idle-ended-quiet-${NOW - 40 * MINUTE}`,
          text: 'We closed this chat.',
          contentType: 'text/plain',
          attachments: [],
        },
        new Date(NOW).toISOString(),
      ],
    ]);
  });

  it('leaves a conversation that wrote after the page was read', async () => {
    const { sweep, disconnectContact } = setUp({
      timeoutMinutes: '30',
      activity: { 'woke-up': NOW - 45 * MINUTE, sleeping: NOW - 40 * MINUTE },
      active: ['woke-up', 'sleeping'],
      laterActivity: { 'woke-up': NOW - 2_000 },
    });
    const counts = await sweep.run(running());
    expect(disconnectContact.mock.calls.map(([id]) => id)).toEqual(['sleeping']);
    expect(counts).toMatchObject({ ended: 1, active: 1 });
  });

  it('drops entries of conversations that are not active without calling Connect', async () => {
    const { sweep, store, disconnectContact } = setUp({
      timeoutMinutes: '30',
      activity: { ended: NOW - 90 * MINUTE, gone: NOW - 60 * MINUTE, idle: NOW - 35 * MINUTE },
      active: ['idle'],
    });
    const counts = await sweep.run(running());
    expect(store.dropStaleIndexEntry.mock.calls.map(([index, id]) => [index, id])).toEqual([
      ['activity', 'ended'],
      ['activity', 'gone'],
      ['activity', 'idle'],
    ]);
    expect(disconnectContact.mock.calls.map(([id]) => id)).toEqual(['idle']);
    expect(counts).toEqual({ ended: 1, stale: 2, active: 0, failed: 0 });
  });

  it('counts a conversation it could not end and goes on', async () => {
    const { sweep, disconnectContact } = setUp({
      timeoutMinutes: '1',
      activity: { a: NOW - 5 * MINUTE, b: NOW - 4 * MINUTE },
      active: ['a', 'b'],
    });
    disconnectContact.mockRejectedValueOnce(new Error('DisconnectParticipant failed: throttled'));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const counts = await sweep.run(running());
    expect(disconnectContact).toHaveBeenCalledTimes(2);
    expect(counts).toEqual({ ended: 1, stale: 0, active: 0, failed: 1 });
    expect(warn.mock.calls[0][0]).toEqual({
      failed: 1,
      reason: 'DisconnectParticipant failed: throttled',
    });
  });
});
