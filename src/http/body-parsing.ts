import type { NextFunction, Request, RequestHandler, Response } from 'express';
import express from 'express';
import type { IncomingMessage } from 'node:http';

export interface RawBodyRequest extends IncomingMessage {
  rawBody?: Buffer;
}

const keepRawBody = (req: RawBodyRequest, _res: unknown, buffer: Buffer): void => {
  req.rawBody = buffer;
};

/** SNS posts its JSON envelope as `text/plain`; this path reads any body as JSON. */
export const SNS_WEBHOOK_PATH = '/webhooks/connect';

/**
 * Body parsers that keep the raw bytes (`req.rawBody`) for signature checks and refuse
 * bodies over `limit` bytes with 413.
 */
export function bodyParsers(limit: number): { path: string; handler: RequestHandler }[] {
  return [
    {
      path: SNS_WEBHOOK_PATH,
      handler: express.json({ type: () => true, limit, verify: keepRawBody }),
    },
    { path: '/', handler: express.json({ limit, verify: keepRawBody }) },
    { path: '/', handler: express.urlencoded({ extended: false, limit, verify: keepRawBody }) },
  ];
}

interface BodyParserError {
  status?: number;
  type?: string;
  message: string;
}

const REASONS: Record<string, string> = {
  'entity.too.large': 'request body is larger than MAX_BODY_BYTES',
  'entity.parse.failed': 'request body is not valid JSON',
};

/** Answers a body parser's refusal (413, 400, 415) as JSON, like every other error. */
export function bodyErrorHandler(
  error: BodyParserError,
  _req: Request,
  res: Response,
  next: NextFunction,
): void {
  const status = error.status;
  if (status === undefined || status < 400 || status >= 500 || res.headersSent) {
    next(error);
    return;
  }
  const message = (error.type && REASONS[error.type]) ?? error.message;
  res.status(status).json({ statusCode: status, error: error.type ?? 'bad request', message });
}
