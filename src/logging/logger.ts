import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
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
      // A probe's 503 is its answer (not ready yet, Redis away), not a fault of the server.
      if (error || res.statusCode >= 500) return probe ? 'warn' : 'error';
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

/** One log line per request, with its request id; mounted before the body parsers. */
export function createHttpLogger(logger: RootLogger) {
  return pinoHttp(httpLoggerOptions(logger));
}
