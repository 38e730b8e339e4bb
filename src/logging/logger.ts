import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  pino,
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type Logger,
  type LevelWithSilent,
} from 'pino';
import { pinoHttp, type Options as HttpLoggerOptions } from 'pino-http';
import { maskPhonesInText, redactUrl, redaction } from './redaction';

export type RootLogger = Logger;

export function createRootLogger(
  level: LevelWithSilent,
  destination?: DestinationStream,
): RootLogger {
  return pino(
    {
      level,
      base: { service: 'connect-stream-bridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: redaction,
      hooks: {
        logMethod(args, method) {
          const masked = args.map((arg: unknown) =>
            typeof arg === 'string' ? maskPhonesInText(arg) : arg,
          );
          method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const QUIET_PATHS = /^\/(health\/(live|ready)|metrics)(\?|$)/;

/** A request's id: the caller's `x-request-id` when it is sane, else a new UUID. Echoed back. */
function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

interface SerializedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  remoteAddress?: string;
}

export function httpLoggerOptions(logger: RootLogger): HttpLoggerOptions {
  return {
    logger,
    genReqId: requestId,
    customLogLevel: (req, res, error) => {
      const probe = QUIET_PATHS.test(req.url ?? '');
      if (error) return 'error';
      // A 503 is the service's own answer (a probe not ready yet; Redis away, so the sender
      // retries), not a fault: the outage itself is logged once, by the lost connection.
      if (res.statusCode === 503) return 'warn';
      if (res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return probe ? 'debug' : 'info';
    },
    serializers: {
      // An allow-list: headers carry signatures and bearer tokens.
      req: (req: SerializedRequest) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url),
        userAgent: req.headers['user-agent'],
        contentLength: req.headers['content-length'],
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
}

/**
 * One log line per request, with its request id; mounted before the body parsers. pino-http
 * gives every request a child logger bound to the serialized, redacted request, which costs more
 * than the rest of the request's logging; here that child is built only once something is
 * logged through it at a level the logger writes, so requests nothing logs about skip it.
 */
export function createHttpLogger(logger: RootLogger) {
  const middleware = pinoHttp(httpLoggerOptions(logger));
  const eagerChild = Reflect.get(middleware.logger, 'child') as unknown as ChildOf;
  // pino-http makes each request's child with this logger's `child`; children inherit it.
  Object.assign(middleware.logger, {
    child(this: Logger, bindings: Bindings, options?: ChildLoggerOptions): Logger {
      return lazyLogger(this, () => eagerChild.call(this, bindings, options));
    },
  });
  return (req: IncomingMessage, res: ServerResponse, next?: () => void) => {
    // Read now: the request may be serialized after an abort closed its socket, and Node
    // keeps a socket's peer address once it was read.
    void req.socket.remoteAddress;
    middleware(req, res, next);
  };
}

type ChildOf = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;

const LEVELS: ReadonlySet<string> = new Set(Object.keys(pino.levels.values));
const skip = () => undefined;

/** `build()`'s logger, built on first use; a call at a level `parent` does not write is skipped. */
function lazyLogger(parent: Logger, build: () => Logger): Logger {
  let built: Logger | undefined;
  const logger = () => (built ??= build());
  return new Proxy(parent, {
    get(_, property) {
      if (!built && typeof property === 'string' && LEVELS.has(property)) {
        if (!parent.isLevelEnabled(property)) return skip;
      }
      const target = logger();
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
    set: (_, property, value) => Reflect.set(logger(), property, value),
  });
}
