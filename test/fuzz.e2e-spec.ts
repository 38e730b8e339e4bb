import fc from 'fast-check';
import {
  adminCases,
  type CaseContext,
  genericCases,
  snsCases,
  twilioCases,
  type WebhookCases,
  whatsappCases,
  whatsappVerifyCases,
} from './support/fuzz/cases';
import {
  type FuzzTarget,
  memoryOf,
  type MemoryReading,
  startFuzzTarget,
  storedState,
  type StoredState,
} from './support/fuzz/harness';
import { describeOutcome, type FuzzCase, type Outcome, sendAll } from './support/fuzz/http-client';

/**
 * Malformed, oversized, truncated, wrongly typed and wrongly signed requests against every
 * webhook and the admin API of the built bridge. Every case says which answers it may get:
 * 4xx for anything unsigned or invalid (never 5xx, never 2xx), and 200 only for a correctly
 * signed request whose answer is certain and which stores nothing. Afterwards the process is
 * still up, nothing was queued or stored, and a further batch does not grow its memory
 * without bound.
 *
 * Deterministic: fast-check samples every generator from FUZZ_SEED (fixed by default).
 * FUZZ_RUNS is the number of generated requests over all endpoints (the fixed matrix of
 * wrong types comes on top): `FUZZ_RUNS=20000 npx jest test/fuzz --selectProjects e2e`.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_121);
const RUNS = Number(process.env.FUZZ_RUNS ?? 4_000);
const CONCURRENCY = 8;
/** Requests of each memory probe batch. */
const PROBE_SIZE = Math.max(400, Math.round(RUNS / 4));
const MB = 1024 * 1024;
/** A sanity bound on growth between two equal batches, not a performance figure. */
const MAX_GROWTH_BYTES = 100 * MB;
const TEST_TIMEOUT_MS = 60_000 + RUNS * 40;

/** Share of FUZZ_RUNS for each endpoint family. */
const FAMILIES: { name: string; share: number; build: (context: CaseContext) => WebhookCases }[] = [
  { name: 'twilio', share: 0.15, build: (context) => twilioCases(context, 'message') },
  { name: 'twilio-status', share: 0.12, build: (context) => twilioCases(context, 'status') },
  { name: 'whatsapp', share: 0.17, build: () => whatsappCases() },
  { name: 'whatsapp-verify', share: 0.08, build: () => whatsappVerifyCases() },
  { name: 'generic', share: 0.16, build: () => genericCases() },
  { name: 'sns', share: 0.2, build: (context) => snsCases(context) },
  { name: 'admin', share: 0.12, build: () => adminCases() },
];

function print(line: string): void {
  // The figures are for CI logs: one line per endpoint family.
  // eslint-disable-next-line no-console
  console.log(line);
}

const histogram = (values: Iterable<string | number>): string => {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([value, count]) => `${value}×${count}`)
    .join(' ');
};

function failureReport(outcomes: Outcome[]): string {
  const failures = outcomes.filter((outcome) => outcome.problem !== undefined);
  // One example of each failing generator first.
  const firsts = [
    ...new Map(failures.map((failure) => [failure.fuzzCase.generator, failure])).values(),
  ];
  const shown = [...new Set([...firsts, ...failures])].slice(0, 10).map(describeOutcome).join('\n');
  return `${failures.length} of ${outcomes.length} requests answered wrongly (seed ${SEED}); by generator: ${histogram(
    failures.map((failure) => failure.fuzzCase.generator),
  )}\n${shown}`;
}

describe('fuzzing every webhook and the admin API of the built bridge', () => {
  let target: FuzzTarget;
  let context: CaseContext;
  let before: StoredState;
  const started = Date.now();
  let sent = 0;

  beforeAll(async () => {
    target = await startFuzzTarget();
    context = {
      publicBaseUrl: target.publicBaseUrl,
      snsSigner: target.snsSigner,
      otherSigner: target.otherSigner,
      certificateUrl: target.certificateUrl,
    };
    before = await storedState(target);
    print(
      `fuzz: seed ${SEED}, FUZZ_RUNS ${RUNS}, concurrency ${CONCURRENCY}, key prefix {${target.keyPrefix}}`,
    );
  }, 60_000);

  afterAll(async () => {
    await target?.close();
  }, 30_000);

  async function run(cases: FuzzCase[]): Promise<Outcome[]> {
    const outcomes = await sendAll(target.baseUrl, cases, CONCURRENCY);
    sent += outcomes.length;
    return outcomes;
  }

  it.each(FAMILIES.map((family, index) => [family.name, family, index] as const))(
    '%s: 4xx to every unsigned or invalid request, never 5xx; 200 only where a signed one must get it',
    async (_name, family, index) => {
      const { webhook, systematic, random } = family.build(context);
      const numRuns = Math.max(50, Math.round(RUNS * family.share));
      const cases = [...systematic, ...fc.sample(random, { seed: SEED + index, numRuns })];
      const startedAt = Date.now();
      const outcomes = await run(cases);
      const elapsed = Date.now() - startedAt;
      print(
        `fuzz ${webhook}: ${outcomes.length} requests (${systematic.length} systematic + ${numRuns} generated, seed ${SEED + index}) in ${elapsed} ms; statuses ${histogram(
          outcomes.map((outcome) => outcome.answer.status),
        )}`,
      );
      print(
        `fuzz ${webhook} generators: ${histogram(
          cases.map((fuzzCase) =>
            fuzzCase.generator.replace(/:.*? \(/, ':* (').replace(/:[^ ]*$/, ':*'),
          ),
        )}`,
      );
      const failures = outcomes.filter((outcome) => outcome.problem !== undefined);
      if (failures.length > 0) throw new Error(failureReport(outcomes));
      expect(target.bridge.running).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it('is still up afterwards, and stored or queued nothing', async () => {
    expect(target.bridge.running).toBe(true);
    expect((await fetch(`${target.baseUrl}/health/live`)).status).toBe(200);
    expect((await fetch(`${target.baseUrl}/health/ready`)).status).toBe(200);
    const after = await storedState(target);
    expect(after).toEqual(before);
    expect(after.queues.map((queue) => queue.paused)).toEqual([false, false]);
    const metrics = await (await fetch(`${target.baseUrl}/metrics`)).text();
    const rejections = metrics
      .split('\n')
      .filter((line) => line.startsWith('csb_webhook_rejections_total{'))
      .map((line) => line.replace('csb_webhook_rejections_total', ''));
    print(`fuzz rejections counted by the bridge: ${rejections.join(' ')}`);
    // A 5xx is logged as an error by Nest: there must be none, nor any fatal line.
    const errors = target.bridge.logs.filter((line) =>
      ['error', 'fatal'].includes(String(line.level)),
    );
    expect(errors.map((line) => JSON.stringify(line).slice(0, 500))).toEqual([]);
    expect(target.bridge.rawOutput).toEqual([]);
  });

  it(
    'keeps its memory bounded over further batches of the same size',
    async () => {
      const families = FAMILIES.map((family) => family.build(context));
      const mixed = fc.oneof(...families.map((family) => family.random));
      const readings: MemoryReading[] = [];
      for (const batch of [1, 2, 3]) {
        const cases = fc.sample(mixed, { seed: SEED + 100 + batch, numRuns: PROBE_SIZE });
        const outcomes = await run(cases);
        const failures = outcomes.filter((outcome) => outcome.problem !== undefined);
        if (failures.length > 0) throw new Error(failureReport(outcomes));
        await new Promise((resolve) => setTimeout(resolve, 500));
        readings.push(await memoryOf(target));
      }
      const shown = readings
        .map(
          (reading, index) =>
            `batch ${index + 1}: rss ${(reading.rssBytes / MB).toFixed(1)} MB, heap ${(reading.heapUsedBytes / MB).toFixed(1)} MB`,
        )
        .join('; ');
      print(`fuzz memory (${PROBE_SIZE} requests a batch): ${shown}`);
      const [, second, third] = readings;
      expect(third.rssBytes - second.rssBytes).toBeLessThan(MAX_GROWTH_BYTES);
      expect(third.heapUsedBytes - second.heapUsedBytes).toBeLessThan(MAX_GROWTH_BYTES);
      expect(target.bridge.running).toBe(true);
      expect((await fetch(`${target.baseUrl}/health/live`)).status).toBe(200);
      expect(await storedState(target)).toEqual(before);
      print(`fuzz total: ${sent} requests in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    TEST_TIMEOUT_MS,
  );
});
