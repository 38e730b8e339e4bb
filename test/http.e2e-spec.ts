import { BridgeProcess } from '../src/sandbox/bridge-process';
import { bridgeEnv } from './support/env';

describe('the HTTP surface of the process', () => {
  let bridge: BridgeProcess;

  beforeAll(async () => {
    bridge = await BridgeProcess.start(bridgeEnv());
  });

  afterAll(async () => {
    await bridge?.stop();
  });

  it('refuses a 2 MiB body with 413 before any route runs', async () => {
    const body = JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) });
    for (const [path, contentType] of [
      ['/webhooks/connect', 'text/plain; charset=UTF-8'],
      ['/webhooks/generic/app', 'application/json'],
    ]) {
      const res = await fetch(`${bridge.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({
        statusCode: 413,
        message: expect.stringContaining('MAX_BODY_BYTES'),
      });
    }
  });

  it('serves Prometheus text with the HTTP histogram after a request', async () => {
    expect((await fetch(`${bridge.url}/health/live`)).status).toBe(200);
    const res = await fetch(`${bridge.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE http_server_request_duration_seconds histogram');
    expect(text).toMatch(
      /http_server_request_duration_seconds_count\{method="GET",route="\/health\/live",status_code="200"\} [1-9]/,
    );
    expect(text).toContain('process_resident_memory_bytes');
    // Read from the Redis every suite shares: only their presence is certain here.
    expect(text).toMatch(/^csb_queue_jobs\{queue="inbound",state="waiting"\} \d+$/m);
    expect(text).toMatch(/^csb_queue_jobs\{queue="outbound",state="failed"\} \d+$/m);
    expect(text).toMatch(/^csb_active_conversations \d+$/m);
    // The 413s above were refused by the body parser, before any handler: still counted.
    expect(text).toMatch(
      /^csb_webhook_rejections_total\{webhook="generic",reason="too-large"\} 1$/m,
    );
    expect(text).toMatch(
      /^csb_webhook_rejections_total\{webhook="connect",reason="too-large"\} 1$/m,
    );
  });

  it('logs one line per request with its request id, taking a sane incoming id', async () => {
    const res = await fetch(`${bridge.url}/no-such-route`, {
      headers: { 'x-request-id': 'req-abc.123' },
    });
    expect(res.headers.get('x-request-id')).toBe('req-abc.123');
    const other = await fetch(`${bridge.url}/no-such-route`, {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    const generated = other.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);

    const requestLines = (id: string) =>
      bridge.logs.filter(
        (line) => (line.req as { id?: string } | undefined)?.id === id && 'res' in line,
      );
    await bridge.waitForLog((line) => (line.req as { id?: string } | undefined)?.id === generated);
    expect(requestLines('req-abc.123')).toHaveLength(1);
    expect(requestLines(generated!)).toHaveLength(1);
  });

  it('keeps secrets in query strings and headers out of the request log', async () => {
    await fetch(
      `${bridge.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=very-secret-verify`,
      {
        headers: { authorization: 'Bearer admin-secret-token' },
      },
    );
    await bridge.waitForLog((line) =>
      String((line.req as { url?: string } | undefined)?.url).startsWith('/webhooks/whatsapp'),
    );
    const output = bridge.output();
    expect(output).not.toContain('very-secret-verify');
    expect(output).not.toContain('admin-secret-token');
    expect(output).toContain('hub.verify_token=%5BREDACTED%5D');
  });
});
