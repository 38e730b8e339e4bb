/**
 * Why a message was refused, and what to answer SNS. SNS counts any status below 500 as
 * delivered and retries only 5xx, timeouts and connection errors; so a certificate that could
 * not be fetched answers 503 (SNS tries again later) while every authenticity failure answers
 * 403 and a broken envelope 400 (retrying would not change the answer).
 */
const STATUS_BY_REASON = {
  'malformed-envelope': 400,
  'unsupported-signature-version': 403,
  'topic-not-allowed': 403,
  'certificate-url-not-allowed': 403,
  'stale-message': 403,
  'certificate-invalid': 403,
  'signature-mismatch': 403,
  'certificate-unavailable': 503,
} as const;

export type SnsRejectionReason = keyof typeof STATUS_BY_REASON;
export type SnsRejectionStatus = (typeof STATUS_BY_REASON)[SnsRejectionReason];

/** Thrown by SnsMessageVerifier. The message names fields, never their secret values. */
export class SnsRejection extends Error {
  readonly status: SnsRejectionStatus;

  constructor(
    readonly reason: SnsRejectionReason,
    message: string,
  ) {
    super(message);
    this.name = 'SnsRejection';
    this.status = STATUS_BY_REASON[reason];
  }
}
