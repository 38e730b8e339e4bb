import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import { httpLoggerOptions } from './logger';

const levelOf = (url: string, statusCode: number, error?: Error) => {
  const options = httpLoggerOptions(pino({ enabled: false }));
  return options.customLogLevel!(
    { url } as IncomingMessage,
    { statusCode } as ServerResponse,
    error,
  );
};

describe('the request log level', () => {
  it('logs server faults as errors, refusals as warnings, the rest as info', () => {
    expect(levelOf('/webhooks/generic/app', 503)).toBe('error');
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
