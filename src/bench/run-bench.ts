import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BridgeProcess } from '../sandbox/bridge-process';
import { ConnectEmulator } from '../sandbox/emulator';
import { sendGenericMessage } from '../sandbox/generic-customer';
import { freePort } from '../sandbox/ports';
import { FakeGenericApp, FakeTwilio, FakeWhatsApp } from '../sandbox/providers';
import { RedisServer } from '../sandbox/redis-server';
import { SANDBOX_CREDENTIALS } from '../sandbox/sandbox';
import { summarizeProfiles } from './cpu-profile';
import {
  CpuMeter,
  cpuModel,
  type LatencySummary,
  type Machine,
  median,
  now,
  sleep,
  statusBytes,
  summarize,
} from './stats';

const CHANNELS = ['generic', 'twilio', 'whatsapp'] as const;
type Channel = (typeof CHANNELS)[number];

const BUSINESS_NUMBER = '+15550199999';
const PHONE_NUMBER_ID = '106540352242922';
const GENERIC_CHANNEL = 'bench';
/** A Connect-sized token: 612 base64 characters, as in AWS' own StartChatContact example. */
const connectSizedToken = () => randomBytes(459).toString('base64');
/** Every message the harness writes carries a tag, so each side can be matched. */
const TAG = /bench:[a-z0-9]+:\d+:\d+/;
/** Defaults of INBOUND_CONCURRENCY / OUTBOUND_CONCURRENCY: the baseline uses the same. */
const WORKER_CONCURRENCY = 50;

interface Options {
  conversations: number;
  /** Conversations opened for the idle-memory measure (the first `conversations` of them carry the load). */
  idleConversations: number;
  messages: number;
  rate: number;
  processes: number;
  channel: Channel;
  repeats: number;
  cpuProf: boolean;
  logLevel: string;
  /** Settings passed on to every bridge process, over the harness' own. */
  bridgeEnv: Record<string, string>;
  timeoutMs: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      conversations: { type: 'string', default: '50' },
      'idle-conversations': { type: 'string', default: '500' },
      messages: { type: 'string', default: '20' },
      rate: { type: 'string', default: '200' },
      processes: { type: 'string', default: '1' },
      channel: { type: 'string', default: 'generic' },
      repeats: { type: 'string', default: '3' },
      'cpu-prof': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'warn' },
      'bridge-env': { type: 'string', multiple: true, default: [] },
      'timeout-seconds': { type: 'string', default: '180' },
    },
  });
  const int = (name: string, value: string, min: number) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name} must be ≥ ${min}`);
    return parsed;
  };
  const channel = values.channel as Channel;
  const customers = Math.max(Number(values.conversations), Number(values['idle-conversations']));
  if (customers >= WARM_UP_CUSTOMER) {
    throw new Error(
      `at most ${WARM_UP_CUSTOMER - 1} conversations (customer numbers have 4 digits)`,
    );
  }
  if (!CHANNELS.includes(channel)) throw new Error(`--channel must be ${CHANNELS.join('|')}`);
  return {
    conversations: int('conversations', values.conversations, 1),
    idleConversations: int('idle-conversations', values['idle-conversations'], 1),
    messages: int('messages', values.messages, 1),
    rate: int('rate', values.rate, 1),
    processes: int('processes', values.processes, 1),
    channel,
    repeats: int('repeats', values.repeats, 1),
    cpuProf: values['cpu-prof'],
    logLevel: values['log-level'],
    bridgeEnv: Object.fromEntries(
      values['bridge-env'].map((setting) => {
        const match = /^([A-Z][A-Z0-9_]*)=(.*)$/s.exec(setting);
        if (!match) throw new Error(`--bridge-env takes NAME=value, not ${setting}`);
        return [match[1], match[2]];
      }),
    ),
    timeoutMs: int('timeout-seconds', values['timeout-seconds'], 1) * 1000,
  };
}

/** A customer outside the K of the run, whose conversation warms Redis up. */
const WARM_UP_CUSTOMER = 9999;
const customerNumber = (index: number) => `+1555010${String(index).padStart(4, '0')}`;

/** Times (on `now()`) when tagged messages reached Connect and the customer's provider. */
class Arrivals {
  readonly atConnect = new Map<string, number>();
  readonly atProvider = new Map<string, number>();

  static tagOf(text: unknown): string | undefined {
    return typeof text === 'string' ? TAG.exec(text)?.[0] : undefined;
  }

  async waitFor(
    map: Map<string, number>,
    tags: string[],
    timeoutMs: number,
    what: string,
  ): Promise<number> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const missing = tags.filter((tag) => !map.has(tag));
      if (missing.length === 0) return Math.max(...tags.map((tag) => map.get(tag)!));
      if (now() > deadline) {
        throw new Error(`${what}: ${missing.length} of ${tags.length} missing, e.g. ${missing[0]}`);
      }
      await sleep(5);
    }
  }
}

interface World {
  opts: Options;
  redis: RedisServer;
  redisClient: Redis;
  emulator: ConnectEmulator;
  twilio: FakeTwilio;
  whatsapp: FakeWhatsApp;
  genericApp: FakeGenericApp;
  bridges: BridgeProcess[];
  arrivals: Arrivals;
  profileDir?: string;
}

function pidOf(thing: BridgeProcess | RedisServer): number {
  const holder = thing as unknown as { child?: ChildProcess; process?: ChildProcess };
  const pid = (holder.child ?? holder.process)?.pid;
  if (!pid) throw new Error('no pid');
  return pid;
}

/** Stamps, on the harness clock, every message Connect accepts and every send a fake captures. */
function instrument(world: Omit<World, 'bridges' | 'opts' | 'profileDir'>): void {
  const { emulator, arrivals } = world;
  const center = emulator.center;
  const sendMessage = center.sendMessage.bind(center);
  center.sendMessage = (token, body) => {
    const answer = sendMessage(token, body);
    const tag = Arrivals.tagOf((body as { Content?: unknown }).Content);
    if (tag && !arrivals.atConnect.has(tag)) arrivals.atConnect.set(tag, now());
    return answer;
  };
  // Tokens of the size Connect issues (the emulator's own are 64 characters), so Redis holds
  // what it would hold in production. The emulator keeps the token in its participant record.
  const startChatContact = center.startChatContact.bind(center);
  center.startChatContact = (body) => {
    const answer = startChatContact(body);
    if (answer.ParticipantToken.length < 600) {
      const participant = center
        .findContact(answer.ContactId)
        .participants.find((p) => p.participantToken === answer.ParticipantToken);
      if (participant) {
        participant.participantToken = connectSizedToken();
        answer.ParticipantToken = participant.participantToken;
      }
    }
    return answer;
  };
  const createConnection = center.createParticipantConnection.bind(center);
  center.createParticipantConnection = (participantToken, body) => {
    const answer = createConnection(participantToken, body) as {
      ConnectionCredentials?: { ConnectionToken: string };
    };
    const credentials = answer.ConnectionCredentials;
    if (credentials && credentials.ConnectionToken.length < 600) {
      for (const contact of center.list()) {
        for (const participant of contact.participants) {
          const credential = participant.connections.find(
            (c) => c.token === credentials.ConnectionToken,
          );
          if (credential) {
            credential.token = connectSizedToken();
            credentials.ConnectionToken = credential.token;
          }
        }
      }
    }
    return answer;
  };
  const stampCaptures = (fake: object, textOf: (message: Record<string, unknown>) => unknown) => {
    const capture = (fake as { capture?: { record: (message: unknown) => void } }).capture;
    if (!capture) throw new Error('the fake provider has no capture to instrument');
    const record = capture.record.bind(capture);
    capture.record = (message) => {
      const tag = Arrivals.tagOf(textOf(message as Record<string, unknown>));
      if (tag && !arrivals.atProvider.has(tag)) arrivals.atProvider.set(tag, now());
      record(message);
    };
  };
  stampCaptures(world.genericApp, (m) => m.text);
  stampCaptures(world.twilio, (m) => m.body);
  stampCaptures(world.whatsapp, (m) => m.text);
}

async function start(opts: Options): Promise<World> {
  const redis = await RedisServer.start();
  const redisClient = new Redis(redis.url, { maxRetriesPerRequest: null });
  const emulator = await ConnectEmulator.start();
  const twilio = await FakeTwilio.start({
    accountSid: SANDBOX_CREDENTIALS.twilioAccountSid,
    authToken: SANDBOX_CREDENTIALS.twilioAuthToken,
  });
  const ports = await Promise.all(Array.from({ length: opts.processes }, () => freePort()));
  const whatsapp = await FakeWhatsApp.start({
    accessToken: SANDBOX_CREDENTIALS.whatsappAccessToken,
    appSecret: SANDBOX_CREDENTIALS.whatsappAppSecret,
    webhookUrl: `http://127.0.0.1:${ports[0]}/webhooks/whatsapp`,
  });
  const genericApp = await FakeGenericApp.start({
    secret: SANDBOX_CREDENTIALS.genericWebhookSecret,
  });
  const arrivals = new Arrivals();
  instrument({ redis, redisClient, emulator, twilio, whatsapp, genericApp, arrivals });

  let profileDir: string | undefined;
  if (opts.cpuProf) {
    profileDir = resolve('bench-results', `cpu-profile-${stamp()}`);
    mkdirSync(profileDir, { recursive: true });
  }
  const tokenKey = randomBytes(32).toString('base64');
  const bridges = await Promise.all(
    ports.map((port, index) =>
      BridgeProcess.start({
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        ...(profileDir
          ? {
              NODE_OPTIONS: `--require ${join(__dirname, 'cpu-profiler-preload.js')}`,
              BENCH_CPU_PROFILE_DIR: profileDir,
            }
          : {}),
        LOG_LEVEL: opts.logLevel,
        PORT: String(port),
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        REDIS_URL: redis.url,
        ...emulator.bridgeEnvironment(),
        // One subscription, as behind a load balancer: the first replica takes every SNS POST.
        SNS_SUBSCRIBE_ON_START: index === 0 ? 'true' : 'false',
        TWILIO_ACCOUNT_SID: SANDBOX_CREDENTIALS.twilioAccountSid,
        TWILIO_AUTH_TOKEN: SANDBOX_CREDENTIALS.twilioAuthToken,
        TWILIO_API_BASE_URL: twilio.url,
        WHATSAPP_ACCESS_TOKEN: SANDBOX_CREDENTIALS.whatsappAccessToken,
        WHATSAPP_APP_SECRET: SANDBOX_CREDENTIALS.whatsappAppSecret,
        WHATSAPP_VERIFY_TOKEN: SANDBOX_CREDENTIALS.whatsappVerifyToken,
        WHATSAPP_GRAPH_API_BASE_URL: whatsapp.url,
        ADMIN_API_TOKEN: SANDBOX_CREDENTIALS.adminApiToken,
        GENERIC_WEBHOOK_SECRET: SANDBOX_CREDENTIALS.genericWebhookSecret,
        GENERIC_CALLBACK_URL: genericApp.callbackUrl,
        TOKEN_ENCRYPTION_KEY: tokenKey,
        ...opts.bridgeEnv,
      }),
    ),
  );
  const deadline = now() + 30_000;
  while (!emulator.sns.subscriptionsOf(emulator.topicArn).some((s) => s.status === 'confirmed')) {
    if (now() > deadline) throw new Error('the bridge did not subscribe to the topic');
    await sleep(20);
  }
  if (opts.channel === 'whatsapp') {
    const verification = await whatsapp.verifyWebhook(SANDBOX_CREDENTIALS.whatsappVerifyToken);
    if (!verification.verified) throw new Error('the WhatsApp webhook handshake failed');
  }
  return {
    opts,
    redis,
    redisClient,
    emulator,
    twilio,
    whatsapp,
    genericApp,
    bridges,
    arrivals,
    profileDir,
  };
}

/** Posts one customer message through the provider's webhook, signed; resolves on the 2xx. */
async function customerSays(world: World, customer: number, text: string): Promise<void> {
  const bridge = world.bridges[customer % world.bridges.length];
  const from = customerNumber(customer);
  let response: Response;
  switch (world.opts.channel) {
    case 'generic':
      response = await sendGenericMessage(
        bridge.url,
        SANDBOX_CREDENTIALS.genericWebhookSecret,
        { messageId: text, from, to: BUSINESS_NUMBER, text, displayName: 'Bench' },
        GENERIC_CHANNEL,
      );
      break;
    case 'twilio':
      ({ response } = await world.twilio.sendCustomerMessage(`${bridge.url}/webhooks/twilio`, {
        from,
        to: BUSINESS_NUMBER,
        body: text,
      }));
      break;
    case 'whatsapp':
      ({ response } = await world.whatsapp.sendCustomerMessage({
        from: from.slice(1),
        phoneNumberId: PHONE_NUMBER_ID,
        displayPhoneNumber: BUSINESS_NUMBER.slice(1),
        profileName: 'Bench',
        content: { type: 'text', text: { body: text } },
      }));
      break;
  }
  if (!response.ok)
    throw new Error(`the bridge answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer().catch(() => undefined);
}

const tag = (phase: string, conversation: number, seq: number) =>
  `bench:${phase}:${conversation}:${seq}`;

interface QueueCounts {
  queue: string;
  counts: Record<string, number>;
}

/** Waits until no job of the bridge's queues is waiting, active, delayed or prioritized. */
async function drained(world: World, timeoutMs = 60_000): Promise<void> {
  const deadline = now() + timeoutMs;
  for (;;) {
    await world.emulator.sns.idle();
    const answer = await fetch(`${world.bridges[0].url}/admin/jobs`, {
      headers: { authorization: `Bearer ${SANDBOX_CREDENTIALS.adminApiToken}` },
    });
    const { queues } = (await answer.json()) as { queues: QueueCounts[] };
    const busy = queues.some(({ counts }) =>
      ['waiting', 'active', 'delayed', 'prioritized'].some((state) => (counts[state] ?? 0) > 0),
    );
    if (!busy) return;
    if (now() > deadline) throw new Error(`queues not drained: ${JSON.stringify(queues)}`);
    await sleep(100);
  }
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

/** MEMORY USAGE summed by key shape (ids replaced by placeholders). */
async function memoryByKeyShape(
  redis: Redis,
): Promise<Record<string, { keys: number; bytes: number }>> {
  const shapes: Record<string, { keys: number; bytes: number }> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const bytes = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
      const shape = key
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
        .replace(/[0-9a-f]{32}/g, '<id>')
        .replace(/\+\d{8,15}/g, '<E.164>')
        .replace(/bench(%3A|:)[a-z0-9]+(%3A|:)\d+(%3A|:)\d+/gi, '<msg>');
      shapes[shape] ??= { keys: 0, bytes: 0 };
      shapes[shape].keys += 1;
      shapes[shape].bytes += bytes;
    }
  } while (cursor !== '0');
  return shapes;
}

/**
 * max(K, idle) conversations, one message each: contacts start, then they go idle. Redis per
 * idle conversation over all of them (a few hundred keep the keyspace's table growth from
 * weighing on the figure as it does with 50). The first K carry the load afterwards.
 */
async function openConversations(world: World) {
  const { conversations: k } = world.opts;
  const opened = Math.max(k, world.opts.idleConversations);
  const redis = world.redisClient;
  // A warm-up conversation first: Redis loads the bridge's Lua scripts and BullMQ's keys once,
  // and that is not per conversation.
  await customerSays(world, WARM_UP_CUSTOMER, tag('warm', WARM_UP_CUSTOMER, 0));
  await world.arrivals.waitFor(
    world.arrivals.atConnect,
    [tag('warm', WARM_UP_CUSTOMER, 0)],
    world.opts.timeoutMs,
    'warm-up conversation',
  );
  await drained(world);
  await sleep(1_000);
  const before = await usedMemory(redis);
  const shapesBefore = await memoryByKeyShape(redis);
  const startedAt = now();
  const tags = Array.from({ length: opened }, (_, i) => tag('open', i, 0));
  await Promise.all(tags.map((text, i) => customerSays(world, i, text)));
  const lastAccepted = await world.arrivals.waitFor(
    world.arrivals.atConnect,
    tags,
    world.opts.timeoutMs,
    'opening conversations',
  );
  await drained(world);
  await sleep(1_000);
  const after = await usedMemory(redis);
  const shapesAfter = await memoryByKeyShape(redis);
  // What the K conversations added, key shape by key shape (MEMORY USAGE, without allocator
  // overhead and Redis' own structures, unlike used_memory).
  const added: Record<string, { keys: number; bytes: number }> = {};
  for (const [shape, { keys, bytes }] of Object.entries(shapesAfter)) {
    const was = shapesBefore[shape] ?? { keys: 0, bytes: 0 };
    if (bytes !== was.bytes || keys !== was.keys) {
      added[shape] = { keys: keys - was.keys, bytes: bytes - was.bytes };
    }
  }
  const keyBytes = Object.values(added).reduce((sum, { bytes }) => sum + bytes, 0);
  const contacts = new Map<number, string>();
  for (const contact of world.emulator.center.list()) {
    const address = contact.attributes.customerAddress;
    const index = Number(address?.slice(-4));
    if (contact.endedAt === undefined && index < k && address === customerNumber(index)) {
      contacts.set(index, contact.contactId);
    }
  }
  if (contacts.size !== k) throw new Error(`expected ${k} live contacts, found ${contacts.size}`);
  return {
    contacts,
    setupSeconds: (lastAccepted - startedAt) / 1000,
    memory: {
      conversations: opened,
      usedMemoryBefore: before,
      usedMemoryAfter: after,
      bytesPerIdleConversation: Math.round((after - before) / opened),
      memoryUsagePerConversation: Math.round(keyBytes / opened),
      addedByKeyShape: added,
    },
  };
}

interface ThroughputRun {
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  cpuCores: Record<string, number>;
  /** Redis commands processed during the run (every client: bridge, harness), per message. */
  redisCommandsPerMessage: number;
  redisTopCommandsPerMessage: Record<string, number>;
}

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const stats = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    stats.set(match[1], Number(match[2]));
  }
  return stats;
}

/** Redis commands per message over a run, from INFO commandstats. */
class CommandMeter {
  private constructor(
    private readonly redis: Redis,
    private readonly start: Map<string, number>,
  ) {}

  static async start(redis: Redis): Promise<CommandMeter> {
    return new CommandMeter(redis, await commandStats(redis));
  }

  async stop(messages: number) {
    const end = await commandStats(this.redis);
    const perCommand: [string, number][] = [];
    let total = 0;
    for (const [command, calls] of end) {
      // The meter's own INFO calls are not the workload's.
      if (command === 'info') continue;
      const added = calls - (this.start.get(command) ?? 0);
      total += added;
      if (added > 0) perCommand.push([command, Math.round((added / messages) * 100) / 100]);
    }
    perCommand.sort((a, b) => b[1] - a[1]);
    return {
      redisCommandsPerMessage: Math.round((total / messages) * 10) / 10,
      redisTopCommandsPerMessage: Object.fromEntries(perCommand.slice(0, 10)),
    };
  }
}

const round1 = (value: number) => Math.round(value * 10) / 10;

function pids(world: World): Record<string, number> {
  const result: Record<string, number> = {
    harness: process.pid,
    redis: pidOf(world.redis),
  };
  world.bridges.forEach((bridge, index) => (result[`bridge${index}`] = pidOf(bridge)));
  return result;
}

/** Closed loop: each conversation sends its next message when the bridge accepted the last one. */
async function inboundThroughput(world: World, run: number): Promise<ThroughputRun> {
  const { conversations: k, messages: m } = world.opts;
  const phase = `in${run}`;
  const commands = await CommandMeter.start(world.redisClient);
  const meter = new CpuMeter(pids(world));
  const startedAt = now();
  await Promise.all(
    Array.from({ length: k }, async (_, i) => {
      for (let seq = 0; seq < m; seq++) await customerSays(world, i, tag(phase, i, seq));
    }),
  );
  const tags = Array.from({ length: k * m }, (_, n) => tag(phase, n % k, Math.floor(n / k)));
  const done = await world.arrivals.waitFor(
    world.arrivals.atConnect,
    tags,
    world.opts.timeoutMs,
    `inbound run ${run}`,
  );
  const seconds = (done - startedAt) / 1000;
  const cpuCores = meter.stop();
  await drained(world);
  return {
    messages: k * m,
    seconds: round1(seconds * 1000) / 1000,
    messagesPerSecond: round1((k * m) / seconds),
    cpuCores,
    ...(await commands.stop(k * m)),
  };
}

/** How many SNS notifications the bridge has accepted so far (2xx answers to the emulator). */
function acceptedNotifications(world: World): () => number {
  const sns = world.emulator.sns as unknown as {
    delivery?: { records?: { type: string; outcome: string }[] };
  };
  const records = sns.delivery?.records;
  let seen = 0;
  let accepted = 0;
  const count = (list: { type: string; outcome: string }[]) => {
    for (; seen < list.length; seen++) {
      if (list[seen].type === 'Notification' && list[seen].outcome === 'delivered') accepted++;
    }
    return accepted;
  };
  return records ? () => count(records) : () => count(world.emulator.sns.deliveries());
}

/**
 * Closed loop: agents write while at most K items (one per conversation on average) are on
 * their way through SNS to the bridge, so the bridge's intake sets the pace.
 */
async function outboundThroughput(
  world: World,
  contacts: Map<number, string>,
  run: number,
): Promise<ThroughputRun> {
  const { conversations: k, messages: m } = world.opts;
  const phase = `out${run}`;
  const accepted = acceptedNotifications(world);
  const base = accepted();
  const commands = await CommandMeter.start(world.redisClient);
  const meter = new CpuMeter(pids(world));
  const startedAt = now();
  const tags: string[] = [];
  for (let n = 0; n < k * m;) {
    while (n < k * m && n - (accepted() - base) < k) {
      const conversation = n % k;
      const text = tag(phase, conversation, Math.floor(n / k));
      world.emulator.center.agentMessage(contacts.get(conversation)!, { content: text });
      tags.push(text);
      n++;
    }
    await sleep(2);
  }
  const done = await world.arrivals.waitFor(
    world.arrivals.atProvider,
    tags,
    world.opts.timeoutMs,
    `outbound run ${run}`,
  );
  const seconds = (done - startedAt) / 1000;
  const cpuCores = meter.stop();
  await drained(world);
  return {
    messages: k * m,
    seconds: round1(seconds * 1000) / 1000,
    messagesPerSecond: round1((k * m) / seconds),
    cpuCores,
    ...(await commands.stop(k * m)),
  };
}

/** Open loop at `rate` messages/s, round robin over the conversations. */
async function openLoop(
  world: World,
  send: (conversation: number, text: string) => Promise<void> | void,
  phase: string,
): Promise<{
  sentAt: Map<string, number>;
  offeredSeconds: number;
  cpuCores: Record<string, number>;
}> {
  const { conversations: k, messages: m, rate } = world.opts;
  const sentAt = new Map<string, number>();
  const pending: Promise<void>[] = [];
  const meter = new CpuMeter(pids(world));
  const startedAt = now();
  for (let n = 0; n < k * m; n++) {
    const due = startedAt + (n * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    const text = tag(phase, n % k, Math.floor(n / k));
    sentAt.set(text, now());
    const sent = send(n % k, text);
    if (sent) pending.push(sent);
  }
  const offeredSeconds = (now() - startedAt) / 1000;
  await Promise.all(pending);
  return { sentAt, offeredSeconds, cpuCores: meter.stop() };
}

async function latency(
  world: World,
  contacts: Map<number, string>,
  run: number,
): Promise<{
  inbound: LatencySummary & {
    offeredRate: number;
    webhookAnswer: LatencySummary;
    cpuCores: Record<string, number>;
  };
  outbound: LatencySummary & { offeredRate: number; cpuCores: Record<string, number> };
}> {
  const { arrivals, opts } = world;
  const answers: number[] = [];
  const inbound = await openLoop(
    world,
    async (conversation, text) => {
      const sent = now();
      await customerSays(world, conversation, text);
      answers.push(now() - sent);
    },
    `lin${run}`,
  );
  const inTags = [...inbound.sentAt.keys()];
  await arrivals.waitFor(arrivals.atConnect, inTags, opts.timeoutMs, 'inbound latency run');
  await drained(world);
  const outbound = await openLoop(
    world,
    (conversation, text) => {
      world.emulator.center.agentMessage(contacts.get(conversation)!, { content: text });
    },
    `lout${run}`,
  );
  const outTags = [...outbound.sentAt.keys()];
  await arrivals.waitFor(arrivals.atProvider, outTags, opts.timeoutMs, 'outbound latency run');
  await drained(world);
  return {
    inbound: {
      offeredRate: round1(inTags.length / inbound.offeredSeconds),
      ...summarize(inTags.map((t) => arrivals.atConnect.get(t)! - inbound.sentAt.get(t)!)),
      webhookAnswer: summarize(answers),
      cpuCores: inbound.cpuCores,
    },
    outbound: {
      offeredRate: round1(outTags.length / outbound.offeredSeconds),
      ...summarize(outTags.map((t) => arrivals.atProvider.get(t)! - outbound.sentAt.get(t)!)),
      cpuCores: outbound.cpuCores,
    },
  };
}

/** A Queue and a Worker on the same Redis: K producers add M trivial jobs each, one worker processes them. */
async function rawBullmq(world: World, run: number): Promise<ThroughputRun> {
  const { conversations: k, messages: m } = world.opts;
  const connection = { host: '127.0.0.1', port: world.redis.port };
  const name = `bench-baseline-${run}`;
  const queue = new Queue(name, {
    connection: { ...connection, maxRetriesPerRequest: 1 },
    prefix: '{bench}',
  });
  let completed = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const worker = new Worker(name, async () => {}, {
    connection: { ...connection, maxRetriesPerRequest: null },
    prefix: '{bench}',
    concurrency: WORKER_CONCURRENCY,
  });
  worker.on('completed', () => {
    if (++completed === k * m) allDone();
  });
  await worker.waitUntilReady();
  await queue.waitUntilReady();
  const commands = await CommandMeter.start(world.redisClient);
  const meter = new CpuMeter(pids(world));
  const startedAt = now();
  await Promise.all(
    Array.from({ length: k }, async (_, i) => {
      for (let seq = 0; seq < m; seq++) {
        await queue.add(
          'job',
          { conversation: i, seq },
          { jobId: `${run}-${i}-${seq}`, removeOnComplete: true, removeOnFail: true },
        );
      }
    }),
  );
  await finished;
  const seconds = (now() - startedAt) / 1000;
  const cpuCores = meter.stop();
  const commandsUsed = await commands.stop(k * m);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return {
    messages: k * m,
    seconds: round1(seconds * 1000) / 1000,
    messagesPerSecond: round1((k * m) / seconds),
    cpuCores,
    ...commandsUsed,
  };
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

async function main(): Promise<void> {
  const opts = options();
  const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);
  log(
    `starting Redis, the Connect emulator, the fakes and ${opts.processes} bridge process(es); ` +
      `${opts.conversations} conversations × ${opts.messages} messages, ${opts.channel} channel`,
  );
  const world = await start(opts);
  const startedAt = new Date().toISOString();
  try {
    const redisInfo = await world.redisClient.info('server');
    const machine: Machine = {
      cores: (await import('node:os')).cpus().length,
      cpuModel: cpuModel(),
      node: process.version,
      redis: /^redis_version:(.+)$/m.exec(redisInfo)?.[1].trim() ?? 'unknown',
      kernel: (await import('node:os')).release(),
    };

    log('opening the conversations (one message each), then Redis per idle conversation');
    const opened = await openConversations(world);
    log(
      `  ${opened.memory.conversations} contacts in ${fmt(opened.setupSeconds, 2)} s; ` +
        `${opened.memory.bytesPerIdleConversation} B of Redis per idle conversation`,
    );
    for (const contactId of opened.contacts.values()) {
      world.emulator.center.agentJoin(contactId, 'Bench Agent');
    }
    await drained(world);

    const inbound: ThroughputRun[] = [];
    const outbound: ThroughputRun[] = [];
    const baseline: ThroughputRun[] = [];
    for (let run = 1; run <= opts.repeats; run++) {
      inbound.push(await inboundThroughput(world, run));
      log(`  run ${run}: customer → Connect ${fmt(inbound.at(-1)!.messagesPerSecond)} msg/s`);
      outbound.push(await outboundThroughput(world, opened.contacts, run));
      log(`  run ${run}: agent → provider ${fmt(outbound.at(-1)!.messagesPerSecond)} msg/s`);
      baseline.push(await rawBullmq(world, run));
      log(`  run ${run}: raw BullMQ ${fmt(baseline.at(-1)!.messagesPerSecond)} jobs/s`);
    }
    log(`latency at ${opts.rate} msg/s offered`);
    const latencyRuns: Awaited<ReturnType<typeof latency>>[] = [];
    for (let run = 1; run <= opts.repeats; run++) {
      const one = await latency(world, opened.contacts, run);
      latencyRuns.push(one);
      log(
        `  run ${run}: customer → Connect p50 ${one.inbound.p50} p95 ${one.inbound.p95} p99 ${one.inbound.p99} ms; ` +
          `agent → provider p50 ${one.outbound.p50} p95 ${one.outbound.p95} p99 ${one.outbound.p99} ms`,
      );
    }
    // The run whose inbound p99 is the median one is quoted; every run's p99 is listed.
    const lat = [...latencyRuns].sort((a, b) => a.inbound.p99 - b.inbound.p99)[
      Math.floor(latencyRuns.length / 2)
    ];
    const p99s = {
      inbound: latencyRuns.map((one) => one.inbound.p99),
      outbound: latencyRuns.map((one) => one.outbound.p99),
    };

    const peakRss = world.bridges.map((bridge) => statusBytes(pidOf(bridge), 'VmHWM'));
    const inboundMedian = median(inbound.map((r) => r.messagesPerSecond));
    const outboundMedian = median(outbound.map((r) => r.messagesPerSecond));
    const baselineMedian = median(baseline.map((r) => r.messagesPerSecond));
    const ratios = inbound.map((r, i) => r.messagesPerSecond / baseline[i].messagesPerSecond);
    const ratio = median(ratios);

    const targets = [
      {
        target: 'customer → Connect ≥ 40 % of raw BullMQ throughput',
        measured: `${fmt(ratio * 100)} %`,
        met: ratio >= 0.4,
      },
      {
        target: `p99 webhook → Connect ≤ 50 ms at 200 msg/s offered`,
        measured: `${fmt(lat.inbound.p99)} ms at ${fmt(lat.inbound.offeredRate)} msg/s`,
        met: lat.inbound.p99 <= 50 && opts.rate >= 200,
      },
      {
        target: '≤ 2 KB of Redis per idle conversation',
        measured: `${opened.memory.bytesPerIdleConversation} B`,
        met: opened.memory.bytesPerIdleConversation <= 2048,
      },
    ];
    const result = {
      startedAt,
      machine,
      options: opts,
      config: {
        workerConcurrency: WORKER_CONCURRENCY,
        tokens: '612-character ParticipantToken and ConnectionToken, TOKEN_ENCRYPTION_KEY set',
        logLevel: opts.logLevel,
      },
      setup: { contactsStartedSeconds: round1(opened.setupSeconds * 1000) / 1000 },
      throughput: {
        inbound: { medianMessagesPerSecond: inboundMedian, runs: inbound },
        outbound: { medianMessagesPerSecond: outboundMedian, runs: outbound },
        rawBullmq: { medianJobsPerSecond: baselineMedian, runs: baseline },
        inboundToRawBullmq: {
          median: round1(ratio * 1000) / 1000,
          perRun: ratios.map((r) => round1(r * 1000) / 1000),
        },
      },
      latency: { ...lat, p99OfEveryRun: p99s, runs: latencyRuns },
      redis: opened.memory,
      bridgePeakRssBytes: peakRss,
      targets,
    };

    const markdown = renderMarkdown(result);
    mkdirSync('bench-results', { recursive: true });
    const file = join('bench-results', stamp());
    writeFileSync(`${file}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${file}.md`, markdown);
    process.stdout.write(`\n${markdown}\n`);
    log(`wrote ${file}.json and ${file}.md`);
  } finally {
    await Promise.all(world.bridges.map((bridge) => bridge.stop('SIGTERM')));
    await world.redisClient.quit().catch(() => undefined);
    await Promise.all([
      world.emulator.close(),
      world.twilio.close(),
      world.whatsapp.close(),
      world.genericApp.close(),
    ]);
    await world.redis.destroy();
  }
  if (world.profileDir) {
    const profile = summarizeProfiles(world.profileDir);
    writeFileSync(join(world.profileDir, 'summary.json'), `${JSON.stringify(profile, null, 2)}\n`);
    log(`CPU profile of the bridge (${profile.files.length} file(s) in ${world.profileDir}):`);
    for (const p of profile.packages.slice(0, 12)) log(`  ${fmt(p.selfPercent)} %  ${p.function}`);
    log('hottest functions (self time):');
    for (const f of profile.functions.slice(0, 15)) {
      log(`  ${fmt(f.selfPercent)} %  ${f.function}  ${f.where}`);
    }
  }
}

type Result = {
  startedAt: string;
  machine: Machine;
  options: Options;
  setup: { contactsStartedSeconds: number };
  throughput: {
    inbound: { medianMessagesPerSecond: number; runs: ThroughputRun[] };
    outbound: { medianMessagesPerSecond: number; runs: ThroughputRun[] };
    rawBullmq: { medianJobsPerSecond: number; runs: ThroughputRun[] };
    inboundToRawBullmq: { median: number; perRun: number[] };
  };
  latency: Awaited<ReturnType<typeof latency>> & {
    p99OfEveryRun: { inbound: number[]; outbound: number[] };
  };
  redis: {
    conversations: number;
    bytesPerIdleConversation: number;
    memoryUsagePerConversation: number;
    usedMemoryBefore: number;
    usedMemoryAfter: number;
    addedByKeyShape: Record<string, { keys: number; bytes: number }>;
  };
  bridgePeakRssBytes: number[];
  targets: { target: string; measured: string; met: boolean }[];
};

function renderMarkdown(r: Result): string {
  const { options: o, machine: m } = r;
  const runs = (list: ThroughputRun[]) =>
    `${list.map((x) => fmt(x.messagesPerSecond)).join(', ')}; Redis commands/msg ${list
      .map((x) => fmt(x.redisCommandsPerMessage))
      .join(', ')}`;
  const cpu = (list: ThroughputRun[]) => {
    const mid = [...list].sort((a, b) => a.messagesPerSecond - b.messagesPerSecond)[
      Math.floor(list.length / 2)
    ];
    return Object.entries(mid.cpuCores)
      .map(([name, cores]) => `${name} ${fmt(cores, 2)}`)
      .join(', ');
  };
  const li = r.latency.inbound;
  const lo = r.latency.outbound;
  const mib = (bytes: number) => `${fmt(bytes / 1024 / 1024)} MiB`;
  return [
    `Run ${r.startedAt}: ${m.cores} cores (${m.cpuModel}), Node ${m.node}, Redis ${m.redis}, Linux ${m.kernel}.`,
    `${o.conversations} conversations × ${o.messages} messages, ${o.channel} channel, ${o.processes} bridge process(es), ` +
      `${o.repeats} runs per throughput measure (median), latency at ${o.rate} msg/s offered, ${o.repeats} runs (the run with the median inbound p99 is quoted)` +
      (Object.keys(o.bridgeEnv).length
        ? `; bridge settings ${Object.entries(o.bridgeEnv)
            .map(([name, value]) => `${name}=${value}`)
            .join(' ')}.`
        : '.'),
    '',
    '| measure | value | runs / detail | CPU (cores) in the median run |',
    '| --- | --- | --- | --- |',
    `| customer → Connect throughput (closed loop) | ${fmt(r.throughput.inbound.medianMessagesPerSecond)} msg/s | ${runs(r.throughput.inbound.runs)} | ${cpu(r.throughput.inbound.runs)} |`,
    `| agent → provider throughput (closed loop) | ${fmt(r.throughput.outbound.medianMessagesPerSecond)} msg/s | ${runs(r.throughput.outbound.runs)} | ${cpu(r.throughput.outbound.runs)} |`,
    `| raw BullMQ (Queue + Worker, concurrency ${WORKER_CONCURRENCY}) | ${fmt(r.throughput.rawBullmq.medianJobsPerSecond)} jobs/s | ${runs(r.throughput.rawBullmq.runs)} | ${cpu(r.throughput.rawBullmq.runs)} |`,
    `| customer → Connect / raw BullMQ | ${fmt(r.throughput.inboundToRawBullmq.median * 100)} % | ${r.throughput.inboundToRawBullmq.perRun.map((x) => `${fmt(x * 100)} %`).join(', ')} | |`,
    `| webhook sent → Connect accepted, at ${fmt(li.offeredRate)} msg/s | p50 ${li.p50} ms, p95 ${li.p95} ms, p99 ${li.p99} ms | p99 of every run ${r.latency.p99OfEveryRun.inbound.join(', ')} ms; max ${li.max} ms, ${li.samples} samples; webhook 2xx p50 ${li.webhookAnswer.p50} / p99 ${li.webhookAnswer.p99} ms | ${Object.entries(
      li.cpuCores,
    )
      .map(([n, c]) => `${n} ${fmt(c, 2)}`)
      .join(', ')} |`,
    `| agent message → provider accepted, at ${fmt(lo.offeredRate)} msg/s | p50 ${lo.p50} ms, p95 ${lo.p95} ms, p99 ${lo.p99} ms | p99 of every run ${r.latency.p99OfEveryRun.outbound.join(', ')} ms; max ${lo.max} ms, ${lo.samples} samples | ${Object.entries(
      lo.cpuCores,
    )
      .map(([n, c]) => `${n} ${fmt(c, 2)}`)
      .join(', ')} |`,
    `| Redis per idle conversation (INFO used_memory delta / conversations) | ${r.redis.bytesPerIdleConversation} B | used_memory ${r.redis.usedMemoryBefore} → ${r.redis.usedMemoryAfter} B for ${r.redis.conversations} conversations | |`,
    `| Redis per idle conversation (MEMORY USAGE of the keys added / conversations) | ${r.redis.memoryUsagePerConversation} B | ${Object.entries(
      r.redis.addedByKeyShape,
    )
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .map(([shape, { bytes }]) => `\`${shape}\` ${Math.round(bytes / r.redis.conversations)}`)
      .join(', ')} | |`,
    `| bridge peak RSS (VmHWM) | ${r.bridgePeakRssBytes.map(mib).join(', ')} | | |`,
    `| ${r.redis.conversations} contacts started (first message each, at once) | ${fmt(r.setup.contactsStartedSeconds, 2)} s | | |`,
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    ...r.targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'met' : '**missed**'} |`),
    '',
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
