/** The calls the gateway makes; `UploadAttachmentContent` is the HTTP PUT to the pre-signed URL. */
export type ConnectOperation =
  | 'StartChatContact'
  | 'StartContactStreaming'
  | 'CreateParticipantConnection'
  | 'SendMessage'
  | 'SendEvent'
  | 'DisconnectParticipant'
  | 'StartAttachmentUpload'
  | 'UploadAttachmentContent'
  | 'CompleteAttachmentUpload'
  | 'GetAttachment'
  | 'GetTranscript';

/** What the failure was on the wire; safe to log (no tokens, no URLs). */
export interface ConnectFailureDetails {
  /** The service's error type (`ThrottlingException`…), or the network error code. */
  errorType?: string;
  httpStatus?: number;
  requestId?: string;
}

/**
 * Every failure of a ConnectGateway call. `reason` is the service's message with the call's
 * tokens removed; the SDK error is not kept as `cause` so that nothing of the request can
 * reach a log through it.
 */
export abstract class ConnectGatewayError extends Error {
  readonly errorType?: string;
  readonly httpStatus?: number;
  readonly requestId?: string;

  constructor(
    readonly operation: ConnectOperation,
    readonly reason: string,
    details: ConnectFailureDetails = {},
  ) {
    super(`${operation} failed: ${reason}`);
    this.name = new.target.name;
    this.errorType = details.errorType;
    this.httpStatus = details.httpStatus;
    this.requestId = details.requestId;
  }
}

/**
 * Throttling, server errors, too many concurrent chats, network failures and timeouts: try again
 * later with the same ClientToken. The SDK has already retried (3 attempts by default) when this
 * reaches the caller; the relay's backoff sits on top of that.
 */
export class ConnectRetryableError extends ConnectGatewayError {
  /** From a Retry-After header; Connect does not send one today. */
  readonly retryAfterMs?: number;

  constructor(
    operation: ConnectOperation,
    reason: string,
    details: ConnectFailureDetails & { retryAfterMs?: number } = {},
  ) {
    super(operation, reason, details);
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * The Participant Service refused the token: the ConnectionToken expired, or the participant
 * left, or the contact ended. Refresh with the ParticipantToken (`connectParticipant`); if that
 * is refused too, the contact is over.
 */
export class ConnectAccessDeniedError extends ConnectGatewayError {}

/** The request itself is wrong, or names something that does not exist: retrying cannot help. */
export class ConnectRejectedError extends ConnectGatewayError {}
