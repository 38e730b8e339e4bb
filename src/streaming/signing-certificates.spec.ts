import { rejectionOf } from '../../test/support/sns';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { type SigningCertificateOptions, SigningCertificates } from './signing-certificates';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Answers each path with `route(path)`, or with nothing at all for 'hang'; counts requests by path. */
async function startServer(
  route: (
    path: string,
  ) => { status: number; body?: string; headers?: Record<string, string> } | 'hang',
) {
  const requests = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const answer = route(path);
    if (answer === 'hang') return;
    res.writeHead(answer.status, answer.headers).end(answer.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, requests: (path: string) => requests.get(path) ?? 0 };
}

describe('SigningCertificates', () => {
  let rsaPem: string;
  let now: number;

  beforeAll(async () => {
    rsaPem = (
      await generate([{ name: 'commonName', value: 'sns.amazonaws.com' }], { keySize: 2048 })
    ).cert;
  });

  beforeEach(() => {
    now = 1_000_000;
  });

  const certificates = (options: Partial<SigningCertificateOptions> = {}) =>
    new SigningCertificates({
      fetchTimeoutMs: 5_000,
      maxBytes: 10 * 1024,
      maxEntries: 20,
      ttlMs: 60_000,
      now: () => now,
      ...options,
    });

  const servingPem = () => startServer(() => ({ status: 200, body: rsaPem }));

  it('parses the certificate and keeps it for the TTL', async () => {
    const server = await servingPem();
    const cache = certificates({ ttlMs: 1_000 });
    const url = `${server.base}/a.pem`;

    const certificate = await cache.get(url);
    now += 999;
    await cache.get(url);
    expect(server.requests('/a.pem')).toBe(1);
    now += 1;
    await cache.get(url);

    expect(certificate.subject).toBe('CN=sns.amazonaws.com');
    expect(server.requests('/a.pem')).toBe(2);
  });

  it('holds at most maxEntries certificates, dropping the least recently used', async () => {
    const server = await servingPem();
    const cache = certificates({ maxEntries: 2 });
    const get = (name: string) => cache.get(`${server.base}/${name}.pem`);

    await get('a');
    await get('b');
    await get('a'); // a is now the most recently used
    await get('c'); // drops b
    await get('a');
    await get('b'); // drops c

    expect(['a', 'b', 'c'].map((name) => server.requests(`/${name}.pem`))).toEqual([1, 2, 1]);
    await get('a');
    await get('c');
    expect(['a', 'b', 'c'].map((name) => server.requests(`/${name}.pem`))).toEqual([1, 2, 2]);
  });

  it('shares one fetch between concurrent requests, also when it fails', async () => {
    const server = await startServer(() => ({ status: 503 }));
    const cache = certificates();
    const url = `${server.base}/a.pem`;

    const outcomes = await Promise.allSettled([cache.get(url), cache.get(url), cache.get(url)]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(server.requests('/a.pem')).toBe(1);
    await rejectionOf(cache.get(url));
    expect(server.requests('/a.pem')).toBe(2);
  });

  it.each<[string, { status: number; body?: string }, string]>([
    ['a 404', { status: 404, body: 'Not Found' }, 'certificate-unavailable'],
    ['a 500', { status: 500 }, 'certificate-unavailable'],
    ['something that is not a certificate', { status: 200, body: 'hello' }, 'certificate-invalid'],
    [
      'a body over maxBytes',
      { status: 200, body: `${'x'.repeat(10 * 1024)}\n` },
      'certificate-invalid',
    ],
  ])('refuses %s', async (_case, answer, reason) => {
    const server = await startServer(() => answer);

    const rejection = await rejectionOf(certificates().get(`${server.base}/a.pem`));

    expect(rejection.reason).toBe(reason);
  });

  it('reads a body of exactly maxBytes', async () => {
    const server = await servingPem();
    const cache = certificates({ maxBytes: Buffer.byteLength(rsaPem) });
    await expect(cache.get(`${server.base}/a.pem`)).resolves.toMatchObject({
      subject: 'CN=sns.amazonaws.com',
    });
  });

  it('refuses a certificate whose key is not RSA', async () => {
    const ecPem = (
      await generate([{ name: 'commonName', value: 'sns.amazonaws.com' }], { keyType: 'ec' })
    ).cert;
    const server = await startServer(() => ({ status: 200, body: ecPem }));

    const rejection = await rejectionOf(certificates().get(`${server.base}/a.pem`));

    expect(rejection).toMatchObject({ reason: 'certificate-invalid', status: 403 });
  });

  it('does not follow a redirect to a URL that was never checked', async () => {
    const server = await startServer((path) =>
      path === '/moved.pem'
        ? { status: 302, headers: { location: '/elsewhere.pem' } }
        : { status: 200, body: rsaPem },
    );

    const rejection = await rejectionOf(certificates().get(`${server.base}/moved.pem`));

    expect(rejection.reason).toBe('certificate-unavailable');
    expect(server.requests('/moved.pem')).toBe(1);
    expect(server.requests('/elsewhere.pem')).toBe(0);
  });

  it('gives up on a server that does not answer', async () => {
    const server = await startServer(() => 'hang');

    const rejection = await rejectionOf(
      certificates({ fetchTimeoutMs: 50 }).get(`${server.base}/a.pem`),
    );

    expect(rejection).toMatchObject({ reason: 'certificate-unavailable', status: 503 });
    expect(rejection.message).toMatch(/TimeoutError/);
  });
});
