import { once } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { AppConfig, ConfigModule } from '../src/config';
import {
  type ConversationKey,
  ConversationsModule,
  ConversationStore,
  ConversationTrace,
} from '../src/conversations';
import { Metrics, MetricsModule } from '../src/ops';
import { RedisConnections, RedisKeys, RedisModule } from '../src/redis';
import { LeaseLock } from '../src/redis';
import { StaleIndexSweep } from '../src/scheduler/stale-index-sweep';
import type { Sweep, SweepCounts } from '../src/scheduler/sweep';
import { SweepLeadership } from '../src/scheduler/sweep-leadership';
import { SweepScheduler } from '../src/scheduler/sweep-scheduler';
import { eventually } from '../src/sandbox/eventually';
import { bridgeEnv, sharedRedisUrl } from './support/env';

const reader = new Redis(sharedRedisUrl());
const closers: (() => Promise<unknown>)[] = [];

beforeAll(() => {
  Logger.overrideLogger(false);
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await reader.quit();
});

const newPrefix = () => `sched${randomBytes(4).toString('hex')}`;

function configFor(keyPrefix: string, env: Record<string, string> = {}): AppConfig {
  return AppConfig.fromEnv(bridgeEnv({ REDIS_KEY_PREFIX: keyPrefix, ...env }));
}

/** A replica's Redis connections, as the app opens them. */
async function connect(config: AppConfig) {
  const connections = new RedisConnections(config);
  closers.push(() => connections.onApplicationShutdown());
  if (connections.client.status !== 'ready') await once(connections.client, 'ready');
  return { connections, keys: new RedisKeys(config) };
}

describe('LeaseLock', () => {
  let redis: RedisConnections['client'];
  beforeAll(async () => {
    ({
      connections: { client: redis },
    } = await connect(configFor(newPrefix())));
  });
  const lockOn = (key: string, leaseMs: number) => new LeaseLock(redis, key, leaseMs);

  it('has one holder at a time, named in the key', async () => {
    const key = `{${newPrefix()}}:scheduler:test:leader`;
    const first = await lockOn(key, 5_000).acquire();
    expect(first).toMatch(/^.+\/\d+\/[0-9a-f-]{36}$/);
    expect(await lockOn(key, 5_000).acquire()).toBeUndefined();
    expect(await reader.get(key)).toBe(first);
    const ttl = await reader.pttl(key);
    expect(ttl).toBeGreaterThan(4_000);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });

  it('lets only its holder renew it, to a full lease', async () => {
    const key = `{${newPrefix()}}:scheduler:test:leader`;
    const lock = lockOn(key, 10_000);
    const holder = (await lock.acquire())!;
    // The lease has nearly run out.
    await reader.pexpire(key, 1_000);
    expect(await lock.renew('someone-else')).toBe(false);
    expect(await reader.pttl(key)).toBeLessThanOrEqual(1_000);
    expect(await lock.renew(holder)).toBe(true);
    expect(await reader.pttl(key)).toBeGreaterThan(5_000);
  });

  it('is released by its holder only', async () => {
    const key = `{${newPrefix()}}:scheduler:test:leader`;
    const lock = lockOn(key, 5_000);
    const holder = (await lock.acquire())!;
    expect(await lock.release('someone-else')).toBe(false);
    expect(await reader.get(key)).toBe(holder);
    expect(await lock.release(holder)).toBe(true);
    expect(await reader.exists(key)).toBe(0);
    expect(await lockOn(key, 5_000).acquire()).toBeDefined();
  });

  it('passes to another once the lease runs out unrenewed; the old holder can neither renew nor release it', async () => {
    const key = `{${newPrefix()}}:scheduler:test:leader`;
    const lock = lockOn(key, 200);
    const dead = (await lock.acquire())!;
    expect(await lock.acquire()).toBeUndefined();
    await sleep(300);
    const next = await lock.acquire();
    expect(next).toBeDefined();
    expect(await lock.renew(dead)).toBe(false);
    expect(await lock.release(dead)).toBe(false);
    expect(await reader.get(key)).toBe(next);
  });
});

describe('SweepLeadership', () => {
  let redis: RedisConnections['client'];
  beforeAll(async () => {
    ({
      connections: { client: redis },
    } = await connect(configFor(newPrefix())));
  });
  const replicas = (leaseMs: number) => {
    const key = `{${newPrefix()}}:scheduler:test:leader`;
    const logger = new Logger('test');
    const replica = () => new SweepLeadership('test', new LeaseLock(redis, key, leaseMs), logger);
    return { key, a: replica(), b: replica() };
  };

  it('stays with its leader past several leases, renewing between runs', async () => {
    const { key, a, b } = replicas(300);
    expect(await a.claim()).toBe(true);
    expect(await b.claim()).toBe(false);
    await sleep(1_000);
    expect(await b.claim()).toBe(false);
    expect(await a.claim()).toBe(true);
    expect(a.signal.aborted).toBe(false);
    await a.resign();
    expect(await reader.exists(key)).toBe(0);
  });

  it('passes at once when the leader resigns', async () => {
    const { a, b } = replicas(10_000);
    expect(await a.claim()).toBe(true);
    await a.resign();
    expect(a.signal.aborted).toBe(true);
    expect(await b.claim()).toBe(true);
    await b.resign();
  });

  it('tells a leader whose lease was taken meanwhile, and aborts its signal', async () => {
    const { key, a } = replicas(10_000);
    expect(await a.claim()).toBe(true);
    const signal = a.signal;
    // As after a stall longer than the lease: another replica took the lease.
    await reader.set(key, 'other-host/1/other', 'PX', 10_000);
    expect(await a.claim()).toBe(false);
    expect(signal.aborted).toBe(true);
    expect(await reader.get(key)).toBe('other-host/1/other');
  });
});

/** A sweep that records its runs; `work` decides what a run does. */
class RecordingSweep implements Sweep {
  readonly name: string;
  readonly runs: { startedAt: number; endedAt?: number; aborted?: boolean }[] = [];
  constructor(
    readonly intervalMs: number,
    private readonly work: (signal: AbortSignal) => Promise<SweepCounts> = () =>
      Promise.resolve({ done: 1 }),
  ) {
    this.name = `test-${randomBytes(3).toString('hex')}`;
  }

  async run(signal: AbortSignal): Promise<SweepCounts> {
    const run: (typeof this.runs)[number] = { startedAt: Date.now() };
    this.runs.push(run);
    try {
      return await this.work(signal);
    } finally {
      run.endedAt = Date.now();
      run.aborted = signal.aborted;
    }
  }
}

describe('SweepScheduler', () => {
  /** A replica's scheduler with its own connections and metrics, on the shared key prefix. */
  async function replica(prefix: string, sweeps: Sweep[], leaseSeconds = 2) {
    const config = configFor(prefix, { SCHEDULER_LEASE_SECONDS: String(leaseSeconds) });
    const { connections, keys } = await connect(config);
    const metrics = new Metrics();
    const scheduler = new SweepScheduler(
      config,
      connections,
      keys,
      metrics,
      new SchedulerRegistry(),
      sweeps,
    );
    const runs = async (sweep: Sweep) =>
      Object.fromEntries(
        (await metrics.registry.getSingleMetric('csb_scheduler_runs_total')!.get()).values
          .filter((value) => value.labels.sweep === sweep.name)
          .map((value): [string, number] => [String(value.labels.outcome), value.value]),
      );
    return { scheduler, runs };
  }

  it('runs a sweep on one replica only; the other counts its runs as skipped', async () => {
    const prefix = newPrefix();
    const sweep = new RecordingSweep(1_000, async () => {
      await sleep(20);
      return { done: 1 };
    });
    const a = await replica(prefix, [sweep]);
    const b = await replica(prefix, [sweep]);
    for (let i = 0; i < 5; i += 1)
      await Promise.all([a.scheduler.tick(sweep), b.scheduler.tick(sweep)]);
    expect(sweep.runs).toHaveLength(5);
    const [leader, follower] = (await a.runs(sweep)).completed ? [a, b] : [b, a];
    expect(await leader.runs(sweep)).toEqual({ completed: 5 });
    expect(await follower.runs(sweep)).toEqual({ skipped: 5 });
    await leader.scheduler.beforeApplicationShutdown();
    await follower.scheduler.tick(sweep);
    expect(await follower.runs(sweep)).toEqual({ skipped: 5, completed: 1 });
    await follower.scheduler.beforeApplicationShutdown();
  });

  it('never starts a run while the previous one is still going', async () => {
    let release!: () => void;
    const sweep = new RecordingSweep(
      60_000,
      () => new Promise((resolve) => (release = () => resolve({}))),
    );
    const { scheduler } = await replica(newPrefix(), [sweep]);
    const first = scheduler.tick(sweep);
    await eventually('the first run starts', () => sweep.runs.length === 1, 2_000);
    await scheduler.tick(sweep);
    expect(sweep.runs).toHaveLength(1);
    release();
    await first;
    await scheduler.beforeApplicationShutdown();
  });

  it('keeps a failing sweep inside the timer, and counts the failure', async () => {
    const sweep = new RecordingSweep(1_000, () => Promise.reject(new Error('Redis went away')));
    const { scheduler, runs } = await replica(newPrefix(), [sweep]);
    await expect(scheduler.tick(sweep)).resolves.toBeUndefined();
    await expect(scheduler.tick(sweep)).resolves.toBeUndefined();
    expect(await runs(sweep)).toEqual({ failed: 2 });
    await scheduler.beforeApplicationShutdown();
  });

  it('stops a run at its time budget (most of its interval) and counts it partial', async () => {
    const sweep = new RecordingSweep(250, async (signal) => {
      while (!signal.aborted) await sleep(10);
      return { done: 0 };
    });
    const { scheduler, runs } = await replica(newPrefix(), [sweep]);
    await scheduler.tick(sweep);
    const [run] = sweep.runs;
    expect(run.aborted).toBe(true);
    // Not before its budget (80 % of 250 ms): the signal stopped it, not the sweep itself.
    expect(run.endedAt! - run.startedAt).toBeGreaterThanOrEqual(180);
    expect(await runs(sweep)).toEqual({ partial: 1 });
    await scheduler.beforeApplicationShutdown();
  });

  it('at shutdown stops the timers, aborts the run in progress and frees the lease', async () => {
    const prefix = newPrefix();
    const sweep = new RecordingSweep(60_000, async (signal) => {
      while (!signal.aborted) await sleep(10);
      return {};
    });
    const { scheduler } = await replica(prefix, [sweep]);
    const registry = (scheduler as unknown as { registry: SchedulerRegistry }).registry;
    scheduler.onApplicationBootstrap();
    expect(registry.getIntervals()).toEqual([`sweep:${sweep.name}`]);
    const running = scheduler.tick(sweep);
    await eventually('the run starts', () => sweep.runs.length === 1, 2_000);
    const leaseKey = `{${prefix}}:scheduler:${sweep.name}:leader`;
    expect(await reader.exists(leaseKey)).toBe(1);

    await scheduler.beforeApplicationShutdown();
    await running;
    expect(sweep.runs[0].aborted).toBe(true);
    expect(registry.getIntervals()).toEqual([]);
    expect(await reader.exists(leaseKey)).toBe(0);
  });

  it('schedules no sweep whose interval is 0 (turned off)', async () => {
    const off = new RecordingSweep(0);
    const { scheduler } = await replica(newPrefix(), [off]);
    const registry = (scheduler as unknown as { registry: SchedulerRegistry }).registry;
    scheduler.onApplicationBootstrap();
    expect(registry.getIntervals()).toEqual([]);
    await scheduler.beforeApplicationShutdown();
  });
});

describe('conversation indexes for the sweeps', () => {
  let store: ConversationStore;
  let trace: ConversationTrace;
  let prefix: string;

  beforeAll(async () => {
    const keyPrefix = newPrefix();
    prefix = `{${keyPrefix}}`;
    const moduleRef: TestingModule = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(configFor(keyPrefix)),
        RedisModule,
        MetricsModule,
        ConversationsModule,
      ],
    }).compile();
    closers.push(() => moduleRef.close());
    const client = moduleRef.get(RedisConnections).client;
    if (client.status !== 'ready') await once(client, 'ready');
    store = moduleRef.get(ConversationStore);
    trace = moduleRef.get(ConversationTrace);
  });

  let customers = 0;
  const key = (): ConversationKey => ({
    channel: 'generic:app',
    customerAddress: `+1555${String(1_000_000 + (customers += 1))}`,
    businessAddress: '+15559990000',
  });
  const saveNew = async (connectionExpiresAt = Date.now() + 86_400_000) => {
    const conversationKey = key();
    const id = store.conversationId(conversationKey);
    const initialContactId = randomUUID();
    await store.saveContact(id, conversationKey, {
      initialContactId,
      contactId: initialContactId,
      participantId: randomUUID(),
      participantToken: `pt-${randomUUID()}`,
      connectionToken: `ct-${randomUUID()}`,
      connectionExpiresAt,
    });
    return { id, initialContactId };
  };
  const activityKey = () => `${prefix}:conv:by-activity`;
  const scheduleKey = () => `${prefix}:conv:by-credential-expiry`;
  const end = (id: string) => store.markEnded(id, { graceSeconds: 60 });

  it('records the last message either way with the trace, and nothing else', async () => {
    const { id } = await saveNew();
    expect(await store.lastActivityAt(id)).toBeUndefined();
    await trace.append(id, { event: 'contact-started', at: 1_000 });
    await trace.append(id, { event: 'credentials-refreshed', at: 1_500 });
    expect(await store.lastActivityAt(id)).toBeUndefined();
    await trace.append(id, { event: 'received', direction: 'inbound', at: 2_000 });
    expect(await store.lastActivityAt(id)).toBe(2_000);
    await trace.append(id, { event: 'sent', direction: 'inbound', at: 3_000 });
    expect(await store.lastActivityAt(id)).toBe(3_000);
    await trace.append(id, { event: 'delivered', direction: 'outbound', at: 4_000 });
    expect(await store.lastActivityAt(id)).toBe(4_000);
    // An event stamped earlier (a late status) never moves the activity back.
    await trace.append(id, { event: 'received', direction: 'outbound', at: 3_500 });
    expect(await store.lastActivityAt(id)).toBe(4_000);
    await trace.append(id, { event: 'failed', direction: 'outbound', at: 9_000 });
    expect(await store.lastActivityAt(id)).toBe(4_000);
  });

  it('pages conversations by last activity, oldest first, above a cursor', async () => {
    const base = Date.now() - 3_600_000;
    const ids = await Promise.all([0, 1, 2, 3].map(() => saveNew().then(({ id }) => id)));
    for (const [i, id] of ids.entries()) {
      await trace.append(id, { event: 'sent', direction: 'inbound', at: base + i * 1_000 });
    }
    const cutoff = base + 2_500;
    const first = await store.lastActiveBefore(cutoff, 2, { after: base - 1 });
    expect(first).toEqual([
      { conversationId: ids[0], lastActivityAt: base },
      { conversationId: ids[1], lastActivityAt: base + 1_000 },
    ]);
    expect(await store.lastActiveBefore(cutoff, 2, { after: first[1].lastActivityAt })).toEqual([
      { conversationId: ids[2], lastActivityAt: base + 2_000 },
    ]);
  });

  it('pages the credential schedule above a cursor', async () => {
    const t = Date.now() + 7 * 86_400_000;
    const a = await saveNew(t + 1);
    const b = await saveNew(t + 2);
    expect(
      (await store.credentialsExpiringBefore(t + 10, 10, { after: t + 1 })).map(
        (due) => due.conversationId,
      ),
    ).toEqual([b.id]);
    expect(
      (await store.credentialsExpiringBefore(t + 10, 10, { after: t })).map(
        (due) => due.conversationId,
      ),
    ).toEqual([a.id, b.id]);
  });

  it('markEnded takes the conversation out of both indexes', async () => {
    const { id } = await saveNew();
    await trace.append(id, { event: 'received', direction: 'inbound' });
    expect(await reader.zscore(activityKey(), id)).not.toBeNull();
    expect(await end(id)).toBe(true);
    expect(await reader.zscore(activityKey(), id)).toBeNull();
    expect(await reader.zscore(scheduleKey(), id)).toBeNull();
  });

  it('drops an index entry only when its conversation is not active and the entry is old enough', async () => {
    const old = Date.now() - 3_600_000;
    const active = await saveNew();
    const ended = await saveNew();
    const never = store.conversationId(key());
    for (const id of [active.id, ended.id, never]) {
      await trace.append(id, { event: 'received', direction: 'inbound', at: old });
    }
    await end(ended.id);
    // A trailing message of the ended contact puts it back in the activity index.
    await trace.append(ended.id, { event: 'delivered', direction: 'outbound', at: old });

    expect(await store.dropStaleIndexEntry('activity', active.id, Date.now())).toBe(false);
    expect(await store.dropStaleIndexEntry('activity', never, old - 1)).toBe(false);
    expect(await store.dropStaleIndexEntry('activity', never, Date.now())).toBe(true);
    expect(await store.dropStaleIndexEntry('activity', ended.id, Date.now())).toBe(true);
    expect(await store.lastActivityAt(active.id)).toBe(old);
    expect(await store.lastActivityAt(never)).toBeUndefined();
    expect(await store.lastActivityAt(ended.id)).toBeUndefined();
  });

  it('StaleIndexSweep walks both indexes and removes the entries of conversations gone or ended', async () => {
    const old = Date.now() - 3_600_000;
    const active = await saveNew();
    const ended = await saveNew();
    const deleted = await saveNew();
    const starting = store.conversationId(key());
    for (const id of [active.id, ended.id, deleted.id]) {
      await trace.append(id, { event: 'sent', direction: 'inbound', at: old });
    }
    await end(ended.id);
    await trace.append(ended.id, { event: 'delivered', direction: 'outbound', at: old });
    // A record removed behind the store's back leaves both of its index entries dangling.
    await reader.del(`${prefix}:conv:${deleted.id}`);
    // A first message traced a moment before its conversation's record is saved.
    await trace.append(starting, { event: 'received', direction: 'inbound' });

    const counts = await new StaleIndexSweep(store).run(new AbortController().signal);

    expect(counts.removed).toBeGreaterThanOrEqual(3);
    const activity = await reader.zrange(activityKey(), 0, -1);
    expect(activity).toEqual(expect.arrayContaining([active.id, starting]));
    expect(activity).not.toEqual(expect.arrayContaining([ended.id]));
    expect(activity).not.toEqual(expect.arrayContaining([deleted.id]));
    const schedule = await reader.zrange(scheduleKey(), 0, -1);
    expect(schedule).toContain(active.id);
    expect(schedule).not.toContain(deleted.id);
    expect(schedule).not.toContain(ended.id);
  });

  it('costs under 160 bytes of Redis memory per conversation in the activity index', async () => {
    const keyPrefix = `{${newPrefix()}}`;
    const members = 1_000;
    const batch = reader.multi();
    for (let i = 0; i < members; i += 1) {
      batch.zadd(`${keyPrefix}:conv:by-activity`, Date.now() + i, randomBytes(16).toString('hex'));
    }
    await batch.exec();
    const bytes = Number(
      await reader.call('MEMORY', 'USAGE', `${keyPrefix}:conv:by-activity`, 'SAMPLES', '0'),
    );
    process.stdout.write(`activity index: ${bytes / members} B per conversation\n`);
    expect(bytes / members).toBeLessThan(160);
    await reader.del(`${keyPrefix}:conv:by-activity`);
  });
});
