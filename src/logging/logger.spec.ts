import { once } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type LevelWithSilent } from 'pino';
import { pinoHttp } from 'pino-http';
import { eventually } from '../sandbox/eventually';
import { createHttpLogger, createRootLogger, httpLoggerOptions, type RootLogger } from './logger';

const levelOf = (url: string, statusCode: number, error?: Error) => {
  const options = httpLoggerOptions(pino({ enabled: false }));
  return options.customLogLevel!(
    { url } as IncomingMessage,
    { statusCode } as ServerResponse,
    error,
  );
};

describe('the request log level', () => {
  it('logs server faults as errors, refusals and 503s (come back later) as warnings, the rest as info', () => {
    expect(levelOf('/webhooks/generic/app', 500)).toBe('error');
    expect(levelOf('/connect/stream', 502)).toBe('error');
    expect(levelOf('/webhooks/generic/app', 503)).toBe('warn');
    expect(levelOf('/webhooks/generic/app', 200, new Error('boom'))).toBe('error');
    expect(levelOf('/webhooks/generic/app', 401)).toBe('warn');
    expect(levelOf('/webhooks/generic/app', 200)).toBe('info');
  });

  it('keeps probes quiet: success at debug, a not-ready 503 as a warning', () => {
    expect(levelOf('/health/ready', 200)).toBe('debug');
    expect(levelOf('/metrics', 200)).toBe('debug');
    expect(levelOf('/health/ready', 503)).toBe('warn');
    expect(levelOf('/health/ready?x=1', 503)).toBe('warn');
  });
});

type Line = Record<string, unknown> & { req?: Record<string, unknown> };

/** A root logger at `level` whose lines land in `lines`. */
function loggerAt(level: LevelWithSilent): { logger: RootLogger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = createRootLogger(level, {
    write: (line: string) => lines.push(JSON.parse(line) as Line),
  });
  return { logger, lines };
}

/** Serves one request through `middleware`, then `handle`; answers when the response ended. */
async function request(
  middleware: (req: IncomingMessage, res: ServerResponse) => void,
  handle: RequestListener,
  path: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const server = createServer((req, res) => {
    middleware(req, res);
    handle(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
    await res.text();
    return res.status;
  } finally {
    server.close();
  }
}

const answer =
  (status: number): RequestListener =>
  (_req, res) => {
    res.statusCode = status;
    res.end();
  };

describe('the request logger', () => {
  const path = '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=very-secret-verify';
  const headers = {
    'x-request-id': 'req-1',
    'user-agent': 'probe/1',
    authorization: 'Bearer admin-secret-token',
  };
  const withoutTimes = ({ time: _time, responseTime: _responseTime, ...line }: Line) => line;

  it('writes at info the line pino-http writes, secrets redacted, and tags logs made through req.log', async () => {
    const handle: RequestListener = (req, res) => {
      req.log.info({ token: 'tok-secret' }, 'handling');
      answer(200)(req, res);
    };
    const eager = loggerAt('info');
    await request(pinoHttp(httpLoggerOptions(eager.logger)), handle, path, headers);
    const lazy = loggerAt('info');
    await request(createHttpLogger(lazy.logger), handle, path, headers);

    expect(lazy.lines.map(withoutTimes)).toEqual(eager.lines.map(withoutTimes));
    expect(lazy.lines).toEqual([
      expect.objectContaining({ msg: 'handling', token: '[REDACTED]', req: expect.any(Object) }),
      expect.objectContaining({
        level: 'info',
        msg: 'request completed',
        req: {
          id: 'req-1',
          method: 'GET',
          url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=%5BREDACTED%5D',
          userAgent: 'probe/1',
          remoteAddress: '127.0.0.1',
        },
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
      }),
    ]);
    const written = JSON.stringify(lazy.lines);
    for (const secret of ['very-secret-verify', 'admin-secret-token', 'tok-secret']) {
      expect(written).not.toContain(secret);
    }
  });

  it('keeps the peer address of a request whose connection closed before it was answered', async () => {
    const { logger, lines } = loggerAt('info');
    const hangUp: RequestListener = (req) => req.socket.destroy();
    await expect(request(createHttpLogger(logger), hangUp, path, headers)).rejects.toThrow();
    await eventually('the request is logged', () => lines.length > 0, 2_000);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'request aborted',
        req: expect.objectContaining({ id: 'req-1', remoteAddress: '127.0.0.1' }),
      }),
    ]);
  });

  it('at warn, never serializes a request nothing logs about, and still logs a warning with it', async () => {
    const { logger, lines } = loggerAt('warn');
    let serialized = 0;
    const middleware = createHttpLogger(logger);
    const counting = (req: IncomingMessage, res: ServerResponse) => {
      // Only the request's serializer reads the user agent.
      req.headers = new Proxy(req.headers, {
        get: (target, name) => {
          if (name === 'user-agent') serialized += 1;
          return Reflect.get(target, name) as unknown;
        },
      });
      middleware(req, res);
    };

    expect(await request(counting, answer(200), path, headers)).toBe(200);
    expect(lines).toEqual([]);
    expect(serialized).toBe(0);

    const refuse: RequestListener = (req, res) => {
      req.log.debug('not written');
      req.log.warn('refused');
      answer(401)(req, res);
    };
    expect(await request(counting, refuse, path, headers)).toBe(401);
    expect(lines.map((line) => [line.msg, line.req?.id])).toEqual([
      ['refused', 'req-1'],
      ['request completed', 'req-1'],
    ]);
    expect(serialized).toBe(1);
  });
});
