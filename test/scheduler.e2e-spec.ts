import { Redis } from 'ioredis';
import { conversationIdOf, parseTrace } from '../src/conversations';
import { BridgeProcess, type LogLine } from '../src/sandbox/bridge-process';
import { ConnectEmulator } from '../src/sandbox/emulator';
import { eventually } from '../src/sandbox/eventually';
import { sendGenericMessage } from '../src/sandbox/generic-customer';
import { FakeGenericApp } from '../src/sandbox/providers';
import { emulatedBridgeEnv, sharedRedisUrl } from './support/env';

const SECRET = 'generic-webhook-secret-for-tests';
const BUSINESS = '+15559990000';
/** The emulator's connection tokens last this long here (Connect's last a day). */
const TOKEN_TTL_MS = 10_000;
const LEASE_SECONDS = 3;

let customerCount = 0;
const newCustomer = () => `+1555${String(2_000_000 + (customerCount += 1)).slice(-7)}`;
const conversationOf = (customer: string) =>
  conversationIdOf({
    channel: 'generic:app',
    customerAddress: customer,
    businessAddress: BUSINESS,
  });

/** What a suite needs to talk to its bridges and look into Redis under its key prefix. */
function harness(prefix: string, emulator: () => ConnectEmulator) {
  const redis = new Redis(sharedRedisUrl());
  const key = (...parts: string[]) => [`{${prefix}}`, ...parts].join(':');
  return {
    redis,
    key,
    async send(bridge: BridgeProcess, from: string, messageId: string) {
      const res = await sendGenericMessage(bridge.url, SECRET, {
        messageId,
        from,
        to: BUSINESS,
        text: `text of ${messageId}`,
      });
      expect(res.status).toBe(200);
    },
    contactsOf: (customer: string) =>
      emulator()
        .center.list()
        .filter((contact) => contact.attributes.customerAddress === customer),
    delivered(customer: string, messageId: string) {
      return eventually(
        `${messageId} of ${customer} at Connect`,
        () =>
          this.contactsOf(customer).some((contact) =>
            contact.transcript.some((item) => item.Content === `text of ${messageId}`),
          ),
        15_000,
      );
    },
    record: (customer: string) => redis.hgetall(key('conv', conversationOf(customer))),
    trace: async (customer: string) =>
      parseTrace(await redis.lrange(key('conv', conversationOf(customer), 'trace'), 0, -1)),
  };
}

/** `csb_scheduler_runs_total` of one process for one sweep, by outcome. */
async function sweepRuns(bridge: BridgeProcess, sweep: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  const runs: Record<string, number> = {};
  for (const [, labels, value] of text.matchAll(/^csb_scheduler_runs_total\{([^}]*)\} (\S+)$/gm)) {
    if (!labels.includes(`sweep="${sweep}"`)) continue;
    runs[/outcome="([^"]+)"/.exec(labels)![1]] = Number(value);
  }
  return runs;
}

async function metricValue(bridge: BridgeProcess, series: string): Promise<number> {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const leadsRefresher = (line: LogLine) =>
  line.msg === 'leading scheduled sweep' && line.sweep === 'credential-refresh';

describe('scheduled work on two bridge processes sharing Redis', () => {
  const prefix = `scheduler${Date.now()}`;
  let emulator: ConnectEmulator;
  let bridges: BridgeProcess[];
  let leader: BridgeProcess;
  let follower: BridgeProcess;
  const h = harness(prefix, () => emulator);

  beforeAll(async () => {
    emulator = await ConnectEmulator.start({ connectionTokenTtlMs: TOKEN_TTL_MS });
    const env = emulatedBridgeEnv(emulator, {
      REDIS_KEY_PREFIX: prefix,
      GENERIC_WEBHOOK_SECRET: SECRET,
      LOG_LEVEL: 'info',
      CREDENTIAL_REFRESH_INTERVAL_SECONDS: '1',
      CREDENTIAL_REFRESH_AHEAD_SECONDS: '6',
      SCHEDULER_LEASE_SECONDS: String(LEASE_SECONDS),
      SCHEDULER_CONNECT_CALLS_PER_SECOND: '20',
    });
    bridges = await Promise.all([BridgeProcess.start(env), BridgeProcess.start(env)]);
  });

  afterAll(async () => {
    await Promise.all((bridges ?? []).map((bridge) => bridge.stop()));
    await emulator?.close();
    h.redis.disconnect();
  });

  it('runs the refresher on one process; the other skips every run', async () => {
    await eventually(
      'a process leads the refresher',
      () => bridges.some((bridge) => bridge.logs.some(leadsRefresher)),
      10_000,
    );
    [leader, follower] = bridges[0].logs.some(leadsRefresher) ? bridges : [bridges[1], bridges[0]];
    await eventually(
      'three runs on each side',
      async () =>
        ((await sweepRuns(leader, 'credential-refresh')).completed ?? 0) >= 3 &&
        ((await sweepRuns(follower, 'credential-refresh')).skipped ?? 0) >= 3,
      10_000,
    );
    const holder = leader.logs.find(leadsRefresher)?.holder;
    expect(await h.redis.get(h.key('scheduler', 'credential-refresh', 'leader'))).toBe(holder);
    expect(Object.keys(await sweepRuns(follower, 'credential-refresh'))).toEqual(['skipped']);
    expect(follower.logs.filter(leadsRefresher)).toEqual([]);
    const runLine = leader.logs.find(
      (line) => line.msg === 'scheduled sweep ran' && line.sweep === 'credential-refresh',
    );
    expect(runLine).toMatchObject({
      outcome: 'completed',
      refreshed: expect.any(Number),
      ended: expect.any(Number),
      failed: expect.any(Number),
      durationMs: expect.any(Number),
    });
  });

  it('refreshes credentials before they expire, one process at a time, and the conversation keeps delivering', async () => {
    const customer = newCustomer();
    await h.send(bridges[0], customer, 'before-1');
    await h.delivered(customer, 'before-1');
    const firstExpiry = Number((await h.record(customer)).cx);

    await eventually(
      'two refreshes',
      async () =>
        (await h.trace(customer)).filter((entry) => entry.event === 'credentials-refreshed')
          .length >= 2,
      15_000,
    );
    expect(Number((await h.record(customer)).cx)).toBeGreaterThan(firstExpiry);
    // Two processes refreshing the same conversation at once would refresh it twice in a row;
    // one at a time, each refresh comes when the previous credentials near their expiry.
    const refreshedAt = (await h.trace(customer))
      .filter((entry) => entry.event === 'credentials-refreshed')
      .map((entry) => entry.at);
    for (let i = 1; i < refreshedAt.length; i += 1) {
      expect(refreshedAt[i] - refreshedAt[i - 1]).toBeGreaterThan(2_000);
    }

    // Past the first credentials' expiry, the next message goes straight through.
    await eventually('the first credentials expired', () => Date.now() > firstExpiry + 500, 15_000);
    await h.send(bridges[1], customer, 'after-1');
    await h.delivered(customer, 'after-1');
    const sends = emulator
      .requests('SendMessage')
      .filter((request) => (request.body as { Content?: string }).Content === 'text of after-1');
    expect(sends.map((request) => request.status)).toEqual([200]);
    expect(h.contactsOf(customer)).toHaveLength(1);
  }, 40_000);

  it('ends the conversation when Connect refuses the refresh: the contact is over', async () => {
    const customer = newCustomer();
    await h.send(bridges[0], customer, 'refused-1');
    await h.delivered(customer, 'refused-1');
    const [contact] = h.contactsOf(customer);
    const endedBefore = await metricValue(
      leader,
      'csb_credential_refreshes_total{outcome="ended"}',
    );
    const refusalsBefore = emulator
      .requests('CreateParticipantConnection')
      .filter((request) => request.status === 403).length;
    // Streaming is not subscribed here: the bridge learns of the end only from the refresh.
    emulator.center.endChat(contact.contactId);

    await eventually(
      'the conversation is ended',
      async () => (await h.record(customer)).st === 'ended',
      15_000,
    );
    const ended = (await h.trace(customer)).filter((entry) => entry.event === 'contact-ended');
    expect(ended).toEqual([
      expect.objectContaining({ reason: 'the participant was refused: the contact is over' }),
    ]);
    expect(
      emulator.requests('CreateParticipantConnection').filter((request) => request.status === 403)
        .length,
    ).toBeGreaterThan(refusalsBefore);
    expect(
      await h.redis.zscore(h.key('conv', 'by-credential-expiry'), conversationOf(customer)),
    ).toBeNull();
    expect(
      await metricValue(leader, 'csb_credential_refreshes_total{outcome="ended"}'),
    ).toBeGreaterThan(endedBefore);
  }, 30_000);

  it('hands the refresher over once the killed leader’s lease runs out', async () => {
    await leader.stop('SIGKILL');
    const killedAt = Date.now();
    const takeover = await follower.waitForLog(leadsRefresher);
    const takenAfterMs = Date.parse(String(takeover.time)) - killedAt;
    // The dead leader's lease (renewed every third of it) had to run out first.
    expect(takenAfterMs).toBeGreaterThan(((LEASE_SECONDS * 2) / 3) * 1_000 - 500);
    expect(await h.redis.get(h.key('scheduler', 'credential-refresh', 'leader'))).toBe(
      takeover.holder,
    );

    const customer = newCustomer();
    await h.send(follower, customer, 'takeover-1');
    await h.delivered(customer, 'takeover-1');
    await eventually(
      'the new leader refreshes',
      async () =>
        (await h.trace(customer)).some((entry) => entry.event === 'credentials-refreshed'),
      15_000,
    );
    expect((await sweepRuns(follower, 'credential-refresh')).completed).toBeGreaterThan(0);
  }, 30_000);
});

describe('the idle timeout', () => {
  const prefix = `idle${Date.now()}`;
  let emulator: ConnectEmulator;
  let app: FakeGenericApp;
  let bridge: BridgeProcess;
  const h = harness(prefix, () => emulator);

  beforeAll(async () => {
    emulator = await ConnectEmulator.start();
    app = await FakeGenericApp.start({ secret: SECRET });
    bridge = await BridgeProcess.start(
      emulatedBridgeEnv(emulator, {
        REDIS_KEY_PREFIX: prefix,
        GENERIC_WEBHOOK_SECRET: SECRET,
        GENERIC_CALLBACK_URL: app.callbackUrl,
        LOG_LEVEL: 'info',
        IDLE_TIMEOUT_MINUTES: '0.05',
        IDLE_ENDED_MESSAGE: 'We closed this chat after a quiet while.',
        SCHEDULER_CONNECT_CALLS_PER_SECOND: '20',
      }),
    );
  });

  afterAll(async () => {
    await bridge?.stop();
    await emulator?.close();
    await app?.close();
    h.redis.disconnect();
  });

  it('ends a conversation silent for longer than IDLE_TIMEOUT_MINUTES, not one that keeps talking', async () => {
    const quiet = newCustomer();
    const talking = newCustomer();
    await h.send(bridge, quiet, 'quiet-1');
    await h.delivered(quiet, 'quiet-1');
    const startedAt = Date.now();
    // Three seconds of timeout: the talking customer writes every second for six.
    for (let i = 1; i <= 6; i += 1) {
      await h.send(bridge, talking, `talking-${i}`);
      await h.delivered(talking, `talking-${i}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    expect(Date.now() - startedAt).toBeGreaterThan(6_000);
    expect((await h.record(talking)).st).toBe('active');

    expect((await h.record(quiet)).st).toBe('ended');
    const ended = (await h.trace(quiet)).find((entry) => entry.event === 'contact-ended');
    expect(ended?.reason).toBe('idle for 0.05 minutes');
    const [contact] = h.contactsOf(quiet);
    expect(contact.endedAt).toBeDefined();
    expect(emulator.requests('DisconnectParticipant').map((request) => request.status)).toContain(
      200,
    );
    const run = bridge.logs.find(
      (line) =>
        line.msg === 'scheduled sweep ran' &&
        line.sweep === 'idle-conversations' &&
        line.ended === 1,
    );
    expect(run).toBeDefined();
    const toCustomer = (customer: string) =>
      app.messages().filter((message) => message.to === customer);
    await eventually(
      'the idle notice at the customer',
      () =>
        toCustomer(quiet).some(
          (message) => message.text === 'We closed this chat after a quiet while.',
        ),
      15_000,
    );
    expect(toCustomer(talking).map((message) => message.text)).not.toContain(
      'We closed this chat after a quiet while.',
    );

    // The customer's next message starts a new contact.
    await h.send(bridge, quiet, 'quiet-2');
    await h.delivered(quiet, 'quiet-2');
    expect(h.contactsOf(quiet)).toHaveLength(2);
  }, 40_000);
});
