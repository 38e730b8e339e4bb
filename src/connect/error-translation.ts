import {
  ConnectAccessDeniedError,
  type ConnectFailureDetails,
  ConnectGatewayError,
  type ConnectOperation,
  ConnectRejectedError,
  ConnectRetryableError,
} from './connect-errors';

export type ConnectService = 'connect' | 'participant';

export interface FailedCall {
  operation: ConnectOperation;
  service: ConnectService;
  /** Tokens sent with the call, removed from any message the service echoes back. */
  secrets: (string | undefined)[];
}

/**
 * Matched by `name` rather than `instanceof`: both clients define their own ThrottlingException,
 * ResourceNotFoundException and AccessDeniedException, and the name is the wire's errortype.
 */
const RETRYABLE = new Set([
  'ThrottlingException',
  'InternalServerException',
  'InternalServiceException',
  // Connect: too many concurrent chats. Chats end, so the start succeeds later.
  'LimitExceededException',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const REJECTED = new Set([
  'ValidationException',
  'InvalidParameterException',
  'InvalidRequestException',
  'ResourceNotFoundException',
  'ConflictException',
  // Participant Service: attachments per contact (or their size) over the quota. It concerns
  // this contact, not a rate, so waiting does not lift it.
  'ServiceQuotaExceededException',
]);

const MAX_REASON_LENGTH = 1_000;

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { headers?: Record<string, string | undefined> };
}

/** An SDK (or network) failure as the domain error the callers act on. */
export function translateConnectError(error: unknown, call: FailedCall): ConnectGatewayError {
  if (error instanceof ConnectGatewayError) return error;
  const shape: SdkErrorShape = typeof error === 'object' && error !== null ? error : {};
  const name = typeof shape.name === 'string' ? shape.name : 'Error';
  const status = shape.$metadata?.httpStatusCode;
  const details: ConnectFailureDetails = {
    errorType: typeof shape.code === 'string' && !status ? shape.code : name,
    httpStatus: status,
    requestId: shape.$metadata?.requestId,
  };
  const message = typeof shape.message === 'string' && shape.message ? shape.message : name;
  const reason = redact(message, call.secrets).slice(0, MAX_REASON_LENGTH);

  if (name === 'AccessDeniedException') {
    // From Connect itself it is the bridge's IAM role that is refused: no token refresh helps.
    return call.service === 'participant'
      ? new ConnectAccessDeniedError(call.operation, reason, details)
      : new ConnectRejectedError(call.operation, reason, details);
  }
  if (RETRYABLE.has(name) || status === 429 || (status !== undefined && status >= 500)) {
    return new ConnectRetryableError(call.operation, reason, {
      ...details,
      retryAfterMs: retryAfterMs(shape.$response?.headers),
    });
  }
  if (REJECTED.has(name) || (status !== undefined && status >= 400)) {
    return new ConnectRejectedError(call.operation, reason, details);
  }
  // No error answer from the service: connection refused or reset, DNS, timeout, or a reply
  // that could not be read. The ClientToken makes the retry safe.
  return new ConnectRetryableError(call.operation, reason, details);
}

export function redact(text: string, secrets: (string | undefined)[]): string {
  return secrets.reduce<string>(
    (result, secret) => (secret ? result.split(secret).join('[redacted]') : result),
    text,
  );
}

function retryAfterMs(headers: Record<string, string | undefined> = {}): number | undefined {
  const value = Object.entries(headers).find(([key]) => key.toLowerCase() === 'retry-after')?.[1];
  if (!value) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(value.trim())
    ? Number(value) * 1_000
    : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) : undefined;
}
