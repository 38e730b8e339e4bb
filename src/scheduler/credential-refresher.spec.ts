import { Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import type { ConversationService, ConversationStore, CredentialExpiry } from '../conversations';
import { Metrics } from '../ops/metrics';
import { CredentialRefresher } from './credential-refresher';
import { RateGate } from './rate-gate';

const AHEAD_SECONDS = 3_600;
const config = AppConfig.fromEnv({
  AWS_REGION: 'us-east-1',
  CONNECT_INSTANCE_ID: 'instance-1',
  CONNECT_CONTACT_FLOW_ID: 'flow-1',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:stream',
  CREDENTIAL_REFRESH_AHEAD_SECONDS: String(AHEAD_SECONDS),
});

type Renewal = Awaited<ReturnType<ConversationService['renewCredentials']>>;

/**
 * The credential schedule as the store answers it (expiry order, pages above `after`), with
 * the refreshed and ended conversations leaving it as the real store would.
 */
function setUp(options: { due: number; renew?: (conversationId: string) => Promise<Renewal> }) {
  const now = Date.now();
  let schedule: CredentialExpiry[] = Array.from({ length: options.due }, (_, i) => ({
    conversationId: `conv-${String(i).padStart(4, '0')}`,
    connectionExpiresAt: now + 60_000 + i * 1_000,
  }));
  const pages: { before: number; limit: number; after?: number }[] = [];
  const events: string[] = [];
  const store = {
    credentialsExpiringBefore: jest.fn(
      (before: number, limit: number, { after }: { after?: number } = {}) => {
        pages.push({ before, limit, after });
        events.push('page');
        return Promise.resolve(
          schedule
            .filter((entry) => entry.connectionExpiresAt < before)
            .filter((entry) => after === undefined || entry.connectionExpiresAt > after)
            .slice(0, limit),
        );
      },
    ),
    dropStaleIndexEntry: jest.fn((_index: string, id: string) => {
      schedule = schedule.filter((entry) => entry.conversationId !== id);
      return Promise.resolve(true);
    }),
  };
  const renewCredentials = jest.fn(async (conversationId: string) => {
    const outcome = await (options.renew?.(conversationId) ?? Promise.resolve('refreshed'));
    // Refreshed (expiring a day later) or ended, it leaves the range; a failure stays.
    if (outcome !== 'not-active') {
      schedule = schedule.filter((entry) => entry.conversationId !== conversationId);
    }
    return outcome;
  });
  const metrics = new Metrics();
  const refresher = new CredentialRefresher(
    config,
    store as unknown as ConversationStore,
    { renewCredentials } as unknown as ConversationService,
    metrics,
  );
  const refreshes = async () =>
    Object.fromEntries(
      (await metrics.registry.getSingleMetric('csb_credential_refreshes_total')!.get()).values.map(
        (value): [string, number] => [String(value.labels.outcome), value.value],
      ),
    );
  return { refresher, store, renewCredentials, pages, events, refreshes, now };
}

const running = () => new AbortController().signal;

beforeAll(() => {
  Logger.overrideLogger(false);
});
beforeEach(() => jest.spyOn(RateGate.prototype, 'pass').mockResolvedValue(true));
afterEach(() => jest.restoreAllMocks());

describe('CredentialRefresher', () => {
  it('runs on CREDENTIAL_REFRESH_INTERVAL_SECONDS and asks for credentials expiring within the refresh-ahead window', async () => {
    const { refresher, pages, now } = setUp({ due: 0 });
    expect(refresher.intervalMs).toBe(60_000);
    await refresher.run(running());
    expect(pages).toHaveLength(1);
    expect(pages[0].before).toBeGreaterThanOrEqual(now + AHEAD_SECONDS * 1_000);
    expect(pages[0].before).toBeLessThan(now + AHEAD_SECONDS * 1_000 + 5_000);
  });

  it('walks 250 due conversations in pages of 100, soonest first, each once', async () => {
    const { refresher, pages, renewCredentials } = setUp({ due: 250 });
    const counts = await refresher.run(running());
    expect(pages.map((page) => page.limit)).toEqual([100, 100, 100, 100]);
    expect(pages[0].after).toBeUndefined();
    // Each page starts above the last expiry of the one before.
    expect(pages[1].after).toBeDefined();
    expect(pages[2].after).toBeGreaterThan(pages[1].after!);
    const renewed = renewCredentials.mock.calls.map(([id]) => id);
    expect(renewed).toHaveLength(250);
    expect(new Set(renewed).size).toBe(250);
    expect(renewed.slice(0, 3)).toEqual(['conv-0000', 'conv-0001', 'conv-0002']);
    expect(counts).toEqual({ refreshed: 250, ended: 0, stale: 0, failed: 0 });
  });

  it('counts refreshed, ended and failed refreshes, and drops entries of conversations no longer active', async () => {
    const outcomes: Record<string, Renewal | Error> = {
      'conv-0001': 'ended',
      'conv-0002': new Error('CreateParticipantConnection failed: Rate exceeded'),
      'conv-0003': 'not-active',
      'conv-0004': new Error('CreateParticipantConnection failed: Service unavailable'),
    };
    const { refresher, store, refreshes } = setUp({
      due: 6,
      renew: (id) => {
        const outcome = outcomes[id] ?? 'refreshed';
        return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
      },
    });
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    const counts = await refresher.run(running());

    expect(counts).toEqual({ refreshed: 2, ended: 1, stale: 1, failed: 2 });
    expect(await refreshes()).toEqual({ refreshed: 2, ended: 1, failed: 2 });
    expect(store.dropStaleIndexEntry).toHaveBeenCalledTimes(1);
    expect(store.dropStaleIndexEntry).toHaveBeenCalledWith(
      'credential-expiry',
      'conv-0003',
      expect.any(Number),
    );
    // One line for the run's failures, with the first reason.
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toEqual({
      failed: 2,
      reason: 'CreateParticipantConnection failed: Rate exceeded',
    });
  });

  it('does not fetch a failed conversation again in the same run', async () => {
    const { refresher, renewCredentials } = setUp({
      due: 3,
      renew: () => Promise.reject(new Error('Service unavailable')),
    });
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const counts = await refresher.run(running());
    expect(renewCredentials).toHaveBeenCalledTimes(3);
    expect(counts.failed).toBe(3);
  });

  it('refreshes at most four conversations at once', async () => {
    let inFlight = 0;
    let most = 0;
    const { refresher } = setUp({
      due: 30,
      renew: async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        return 'refreshed';
      },
    });
    await refresher.run(running());
    expect(most).toBe(4);
  });

  it('yields to the event loop between pages', async () => {
    const { refresher, events } = setUp({ due: 150 });
    setImmediate(() => events.push('event loop turn'));
    await refresher.run(running());
    expect(events).toEqual(['page', 'event loop turn', 'page', 'page']);
  });

  it('starts no refresh once its signal aborts (time budget, lost lease, shutdown)', async () => {
    const budget = new AbortController();
    const { refresher, renewCredentials } = setUp({
      due: 500,
      renew: (id) => {
        if (id === 'conv-0009') budget.abort();
        return Promise.resolve('refreshed');
      },
    });
    const counts = await refresher.run(budget.signal);
    // The ten up to the abort, plus at most the three already past the gate beside it.
    expect(renewCredentials.mock.calls.length).toBeGreaterThanOrEqual(10);
    expect(renewCredentials.mock.calls.length).toBeLessThanOrEqual(13);
    expect(counts.refreshed).toBe(renewCredentials.mock.calls.length);
  });

  it('goes through the rate gate before every refresh', async () => {
    jest.restoreAllMocks();
    const pass = jest.spyOn(RateGate.prototype, 'pass').mockResolvedValueOnce(true);
    pass.mockResolvedValue(false);
    const { refresher, renewCredentials } = setUp({ due: 3 });
    await refresher.run(running());
    expect(pass).toHaveBeenCalledTimes(3);
    expect(renewCredentials).toHaveBeenCalledTimes(1);
  });
});
