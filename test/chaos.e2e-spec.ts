import { type JobType, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseTrace } from '../src/conversations';
import { ConnectEmulator } from '../src/sandbox/emulator';
import { SeededRandom } from '../src/sandbox/emulator/random';
import { eventually } from '../src/sandbox/eventually';
import { sendGenericMessage } from '../src/sandbox/generic-customer';
import { FakeGenericApp } from '../src/sandbox/providers';
import { RedisServer } from '../src/sandbox/redis-server';
import { BridgeFleet } from './support/chaos/bridge-fleet';
import {
  ChaosAgent,
  ChaosCustomer,
  CHAT_ENDED,
  GREETING,
  type PostOutcome,
} from './support/chaos/chaos-drivers';
import { chaosProfile } from './support/chaos/chaos-profile';
import { LoadBalancer } from './support/chaos/load-balancer';
import {
  checkAgentSide,
  checkCustomerSide,
  overlappingContacts,
  type ProviderReceipt,
} from './support/chaos/verdict';
import { emulatedBridgeEnv } from './support/env';
import { streamSubscribed } from './support/streaming';

/**
 * Three bridge processes behind a load balancer, customers and agents talking while the emulator
 * throttles 20 % of Connect calls and fails 5 % with a 5xx (half of them after the call took
 * effect), SNS duplicates 1 % of its deliveries, a random process is SIGKILLed every few seconds
 * and restarted, Redis (AOF, fsync always) is SIGKILLed and restarted once, and the provider is
 * unreachable for 10 s. CHAOS_PROFILE=full (`npm run test:chaos`) runs it bigger; CHAOS_SEED
 * changes the draws.
 */
const { profile, seed } = chaosProfile();
const SECRET = 'generic-webhook-secret-for-chaos';
const BUSINESS = '+15550001000';
const QUEUES = ['inbound', 'outbound'] as const;
const UNSETTLED: JobType[] = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function report(line: string): void {
  // eslint-disable-next-line no-console
  console.log(line);
}

/** The processes' error lines, counted by message. */
function errorsByMessage(fleet: BridgeFleet): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of fleet.errorLines()) {
    const key = `${String(line.msg)}${line.err ? `: ${String((line.err as { message?: string }).message)}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe(`chaos (${profile.name} profile)`, () => {
  let redis: RedisServer;
  let emulator: ConnectEmulator;
  let app: FakeGenericApp;
  let balancer: LoadBalancer;
  let fleet: BridgeFleet;
  const random = new SeededRandom(seed);
  const draw = (stream: SeededRandom, [min, max]: [number, number]) =>
    Math.round(min + stream.next() * (max - min));

  beforeAll(async () => {
    redis = await RedisServer.start({ appendOnly: true });
    emulator = await ConnectEmulator.start({
      flowMessages: [GREETING],
      // SNS retries an HTTP endpoint for a long while (by default 3 times 20 s apart); this is
      // shorter, so the run is, but outlasts a restart.
      snsRetry: { attempts: 12, baseDelayMs: 200, maxDelayMs: 4_000 },
    });
    app = await FakeGenericApp.start({ secret: SECRET });
    balancer = await LoadBalancer.start();
    fleet = await BridgeFleet.start(
      profile.bridges,
      (port) =>
        emulatedBridgeEnv(emulator, {
          PORT: String(port),
          PUBLIC_BASE_URL: balancer.url,
          SNS_SUBSCRIBE_ON_START: 'true',
          REDIS_URL: redis.url,
          LOG_LEVEL: 'warn',
          GENERIC_WEBHOOK_SECRET: SECRET,
          GENERIC_CALLBACK_URL: app.callbackUrl,
          CHAT_ENDED_MESSAGE: CHAT_ENDED,
          JOB_LOCK_SECONDS: '15',
          TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
        }),
      balancer,
    );
    await streamSubscribed(emulator, balancer.url);
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await balancer?.close();
    await app?.close();
    await emulator?.close();
    await redis?.destroy();
  });

  it(
    'delivers every accepted message once and in order through kills, a Redis restart and a provider outage',
    async () => {
      emulator.faults.configure({
        seed,
        operations: {
          '*': { throttleRate: 0.2, serverErrorRate: 0.025, serverErrorAfterRate: 0.025 },
        },
        sns: { dropRate: 0, duplicateRate: 0.01 },
      });
      const pauses = random.fork('pauses');
      const pause = () => draw(pauses, profile.pauseMs);
      const post = async (customer: string, messageId: string): Promise<PostOutcome> => {
        try {
          const res = await sendGenericMessage(balancer.url, SECRET, {
            messageId,
            from: customer,
            to: BUSINESS,
            text: `customer ${messageId}`,
          });
          await res.arrayBuffer();
          return res.status;
        } catch {
          return 'unreachable';
        }
      };
      const run = `r${seed}`;
      const customers = Array.from({ length: profile.conversations }, (_, index) => {
        const address = `+1555300${String(index).padStart(4, '0')}`;
        return new ChaosCustomer(
          address,
          (seq) => `${run}-c${index}-m${seq}`,
          profile.customerMessages,
          (messageId) => post(address, messageId),
          pause,
        );
      });
      const agents = customers.map(
        (customer, index) =>
          new ChaosAgent(
            emulator.center,
            customer,
            `c${index}`,
            profile.agentMessages,
            index % profile.endChatEvery === 0,
            pause,
          ),
      );

      const started = Date.now();
      let loadDone = false;
      const load = Promise.all([
        ...customers.map((customer) => customer.run()),
        ...agents.map((agent) => agent.run()),
      ]).finally(() => (loadDone = true));

      const kills = random.fork('kills');
      const killing = (async () => {
        while (!loadDone) {
          await sleep(draw(kills, profile.killEveryMs));
          if (loadDone) break;
          const index = Math.floor(kills.next() * fleet.size);
          await fleet.killAndRestart(index, draw(kills, profile.downMs));
        }
      })();
      const timeline: Record<string, number> = {};
      const redisRestart = (async () => {
        await sleep(profile.redisRestartAtMs);
        timeline.redisKilled = Date.now();
        await redis.stop();
        await sleep(500);
        await redis.restart();
        timeline.redisBack = Date.now();
      })();
      const outage = (async () => {
        await sleep(profile.providerOutage.atMs);
        timeline.providerAway = Date.now();
        await app.goAway();
        await sleep(profile.providerOutage.forMs);
        await app.comeBack();
        timeline.providerBack = Date.now();
      })();

      await Promise.all([load, killing, redisRestart, outage]);
      const loadSeconds = (Date.now() - started) / 1_000;

      const queues = QUEUES.map(
        (name) => new Queue(name, { connection: { url: redis.url }, prefix: '{csb}' }),
      );
      const customerTranscripts = (address: string) =>
        emulator.center
          .list()
          .filter((contact) => contact.attributes.customerAddress === address)
          .sort((a, b) => a.createdAt - b.createdAt)
          .map((contact) =>
            contact.transcript
              .filter((item) => item.ParticipantRole === 'CUSTOMER' && item.Type === 'MESSAGE')
              .map((item) => (item.Content ?? '').replace(/^customer /, '')),
          );
      const receiptsOf = (address: string): ProviderReceipt[] =>
        app
          .messages()
          .filter((message) => message.to === address)
          .map((message) => ({
            sendId: message.messageId,
            token: message.text ?? '',
            at: Date.parse(message.receivedAt),
          }));
      /** What the bridge traced of the items for these customers, named by their text. */
      const agentSideTraces = async (addresses: string[]) => {
        const client = new Redis(redis.url);
        const lines: string[] = [];
        try {
          for (const address of addresses) {
            const items = new Map<string, string>();
            for (const contact of emulator.center.list()) {
              if (contact.attributes.customerAddress !== address) continue;
              for (const item of contact.transcript) {
                items.set(item.Id, item.Content ?? item.ContentType.split('.').slice(-2).join('.'));
              }
            }
            lines.push(`trace of ${address} (ms after the load started):`);
            for (const id of await client.hkeys(`{csb}:conv:by-customer:${address}`)) {
              const trace = parseTrace(await client.lrange(`{csb}:conv:${id}:trace`, 0, -1));
              for (const { at, event, connectMessageId, contactId, reason, attempt } of trace) {
                const item = connectMessageId && (items.get(connectMessageId) ?? connectMessageId);
                const detail = [
                  item,
                  contactId && `contact ${contactId.slice(0, 8)}`,
                  attempt && `attempt ${attempt}`,
                  reason,
                ]
                  .filter(Boolean)
                  .join(', ');
                lines.push(`  ${at - started} ${event} ${detail}`);
              }
            }
          }
        } finally {
          client.disconnect();
        }
        return lines.join('\n');
      };
      const unsettledJobs = async () => {
        let count = 0;
        for (const queue of queues) {
          const counts = await queue.getJobCounts(...UNSETTLED);
          count += Object.values(counts).reduce((sum, n) => sum + n, 0);
        }
        return count;
      };
      const drainStarted = Date.now();
      try {
        await eventually(
          'every accepted message delivered and no job left',
          async () =>
            customers.every((customer, index) => {
              const atConnect = new Set(customerTranscripts(customer.address).flat());
              const received = new Set(receiptsOf(customer.address).map((r) => r.token));
              return (
                customer.accepted.every((id) => atConnect.has(id)) &&
                agents[index].expected.every((token) => received.has(token))
              );
            }) && (await unsettledJobs()) === 0,
          180_000,
        );
      } catch (error) {
        report(`chaos: not drained: ${(error as Error).message}`);
      }
      await emulator.sns.idle();
      const drainSeconds = (Date.now() - drainStarted) / 1_000;

      const customerFindings = customers.map((customer) =>
        checkCustomerSide({
          posted: customer.posted,
          accepted: customer.accepted,
          atConnect: customerTranscripts(customer.address),
        }),
      );
      const agentFindings = customers.map((customer, index) =>
        checkAgentSide({
          expected: agents[index].expected,
          received: receiptsOf(customer.address),
          kills: fleet.kills,
        }),
      );
      const overlaps = customers.flatMap((customer) =>
        overlappingContacts(
          emulator.center
            .list()
            .filter((contact) => contact.attributes.customerAddress === customer.address),
        ),
      );
      const jobCounts: Record<string, Record<string, number>> = {};
      const failedReasons: Record<string, number> = {};
      for (const queue of queues) {
        jobCounts[queue.name] = await queue.getJobCounts(...UNSETTLED, 'failed');
        for (const job of await queue.getFailed()) {
          const key = `${queue.name}: ${job.failedReason}`;
          failedReasons[key] = (failedReasons[key] ?? 0) + 1;
        }
        await queue.close();
      }

      const sum = (values: number[]) => values.reduce((total, n) => total + n, 0);
      const refusals = new Map<string, number>();
      for (const customer of customers) {
        for (const [key, n] of customer.refusals) refusals.set(key, (refusals.get(key) ?? 0) + n);
      }
      const requests = emulator.requests();
      const deliveries = emulator.sns.deliveries();
      const contacts = emulator.center.list();
      report(
        [
          `chaos (${profile.name} profile, seed ${seed}): ${profile.bridges} bridges, ${profile.conversations} conversations, load ${loadSeconds.toFixed(1)} s, drained in ${drainSeconds.toFixed(1)} s`,
          `  customer → Connect: ${sum(customers.map((c) => c.posted.length))} posted, ${sum(customers.map((c) => c.accepted.length))} accepted (2xx); refusals retried by the provider: ${JSON.stringify(Object.fromEntries(refusals))}; at Connect missing ${sum(customerFindings.map((f) => f.missing.length))}, duplicated ${sum(customerFindings.map((f) => f.duplicated.length))}, resent after a chat end ${sum(customerFindings.map((f) => f.resentAfterChatEnd.length))}, out of order ${sum(customerFindings.map((f) => f.outOfOrder.length))}`,
          `  agent → customer: ${sum(agents.map((a) => a.expected.length))} expected (agent messages, greetings, ended notices), missing ${sum(agentFindings.map((f) => f.missing.length))}, conversations out of order ${agentFindings.filter((f) => f.outOfOrder).length}, duplicates after a kill ${sum(agentFindings.map((f) => f.duplicatesAfterKill.length))}, duplicates without one ${sum(agentFindings.map((f) => f.unexplainedDuplicates.length))}`,
          `  contacts: ${contacts.length} started, ${overlaps.length} overlapping pairs; jobs left: ${JSON.stringify(jobCounts)}${Object.keys(failedReasons).length ? `, failed: ${JSON.stringify(failedReasons)}` : ''}`,
          `  faults: ${fleet.kills.length} SIGKILLs, Redis killed and restarted once (AOF), provider away ${profile.providerOutage.forMs / 1_000} s; Connect calls ${requests.length}, throttled ${requests.filter((r) => r.status === 429).length}, 5xx ${requests.filter((r) => r.status >= 500).length}; SNS attempts ${deliveries.length}, duplicated copies ${deliveries.filter((d) => d.copy === 2 && d.attempt === 1).length}, failed attempts ${deliveries.filter((d) => d.outcome !== 'delivered').length}, gave up ${deliveries.filter((d) => d.outcome === 'gave-up').length}`,
          `  timeline (ms after the load started): ${JSON.stringify(Object.fromEntries(Object.entries(timeline).map(([event, at]) => [event, at - started])))}, kills at ${JSON.stringify(fleet.kills.map((at) => at - started))}`,
          `  load balancer: ${JSON.stringify(balancer.counts)}; error log lines ${JSON.stringify(errorsByMessage(fleet))}`,
        ].join('\n'),
      );

      const problems = {
        customers: customerFindings
          .map(({ resentAfterChatEnd: _counted, ...findings }, index) => ({
            customer: index,
            ...findings,
          }))
          .filter(
            (f) =>
              f.missing.length + f.duplicated.length + f.outOfOrder.length + f.unknown.length > 0,
          ),
        agents: agentFindings
          .map(({ receivedOrder: _all, ...findings }, index) => ({ customer: index, ...findings }))
          .map(({ duplicatesAfterKill: _counted, unexplainedDuplicates, ...findings }) => ({
            ...findings,
            unexplainedDuplicates: unexplainedDuplicates.map((duplicate) => ({
              token: duplicate.token,
              firstAt: duplicate.firstAt - started,
              againAt: duplicate.againAt - started,
            })),
          }))
          .filter(
            (f) => f.missing.length > 0 || f.outOfOrder || f.unexplainedDuplicates.length > 0,
          ),
        overlaps,
        crashed: fleet.crashed().map((process) => process.output().slice(-2_000)),
        gaveUp: deliveries.filter((d) => d.outcome === 'gave-up').length,
      };
      if (problems.agents.length > 0) {
        report(
          await agentSideTraces(problems.agents.map(({ customer }) => customers[customer].address)),
        );
      }
      expect(problems).toEqual({ customers: [], agents: [], overlaps: [], crashed: [], gaveUp: 0 });
      for (const counts of Object.values(jobCounts)) {
        expect(Object.values(counts).every((n) => n === 0)).toBe(true);
      }
    },
    profile.name === 'ci' ? 420_000 : 1_200_000,
  );
});
