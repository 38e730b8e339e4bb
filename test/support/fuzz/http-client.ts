import http from 'node:http';

/** The statuses a case may be answered with: an explicit list, or any 4xx. */
export type Expected = readonly number[] | '4xx';

/** One request of the fuzz suite, with the answers it may get. */
export interface FuzzCase {
  /** The endpoint family the histogram is kept for (`twilio`, `sns`…). */
  webhook: string;
  /** The generator that produced the case, for the report and the failure message. */
  generator: string;
  method: string;
  /** Path and query, already URL-encoded. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  expect: Expected;
  /** A further check of the answer; returns what is wrong with it, if anything. */
  check?: (answer: Answer) => string | undefined;
}

export interface Answer {
  /** 0 when no answer came (connection refused, reset or timed out). */
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  error?: string;
}

export interface Outcome {
  fuzzCase: FuzzCase;
  answer: Answer;
  /** Why the answer is wrong; undefined when it is right. */
  problem?: string;
}

const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Sends one request with node:http (not fetch): the answer is read even when the server
 * answers before the body is fully sent (413) and stops reading it.
 */
export function send(baseUrl: string, agent: http.Agent, fuzzCase: FuzzCase): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise<Answer>((resolve) => {
    let settled = false;
    const done = (answer: Answer) => {
      if (settled) return;
      settled = true;
      resolve(answer);
    };
    let req: http.ClientRequest;
    try {
      req = http.request({
        agent,
        host: url.hostname,
        port: url.port,
        method: fuzzCase.method,
        path: fuzzCase.path,
        headers: {
          ...fuzzCase.headers,
          ...(fuzzCase.body ? { 'content-length': String(fuzzCase.body.length) } : {}),
        },
        timeout: REQUEST_TIMEOUT_MS,
      });
    } catch (error) {
      done({ status: 0, headers: {}, body: Buffer.alloc(0), error: `client: ${String(error)}` });
      return;
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', (error) =>
        done({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          error: error.message,
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    // Writing may fail once the server has answered and closed (413): the answer still counts.
    req.on('error', (error) =>
      setTimeout(
        () => done({ status: 0, headers: {}, body: Buffer.alloc(0), error: error.message }),
        200,
      ),
    );
    req.end(fuzzCase.body);
  });
}

export function isExpected(expected: Expected, status: number): boolean {
  return expected === '4xx' ? status >= 400 && status < 500 : expected.includes(status);
}

/** Sends every case, `concurrency` at a time, and judges each answer. */
export async function sendAll(
  baseUrl: string,
  cases: readonly FuzzCase[],
  concurrency: number,
): Promise<Outcome[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const outcomes: Outcome[] = new Array<Outcome>(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const index = next;
      next += 1;
      const fuzzCase = cases[index];
      const answer = await send(baseUrl, agent, fuzzCase);
      outcomes[index] = { fuzzCase, answer, problem: judge(fuzzCase, answer) };
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return outcomes;
}

function judge(fuzzCase: FuzzCase, answer: Answer): string | undefined {
  if (answer.status === 0) return `no answer (${answer.error ?? 'unknown'})`;
  if (!isExpected(fuzzCase.expect, answer.status)) {
    const wanted = fuzzCase.expect === '4xx' ? 'a 4xx' : fuzzCase.expect.join(' or ');
    return `answered ${answer.status}, expected ${wanted}`;
  }
  return fuzzCase.check?.(answer);
}

/** A failing case as a reproducible request, for the assertion message. */
export function describeOutcome(outcome: Outcome): string {
  const { fuzzCase, answer } = outcome;
  const body = fuzzCase.body ?? Buffer.alloc(0);
  const shown = body.length > 600 ? body.subarray(0, 600) : body;
  return [
    `[${fuzzCase.webhook}/${fuzzCase.generator}] ${outcome.problem ?? 'ok'}`,
    `  ${fuzzCase.method} ${fuzzCase.path}`,
    `  headers: ${JSON.stringify(fuzzCase.headers).slice(0, 600)}`,
    `  body (${body.length} bytes${body.length > 600 ? ', first 600' : ''}), base64: ${shown.toString('base64')}`,
    `  body as utf8: ${JSON.stringify(shown.toString('utf8'))}`,
    `  answer: ${answer.status} ${answer.body.subarray(0, 400).toString('utf8')}`,
  ].join('\n');
}
