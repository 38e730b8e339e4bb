import { createHmac } from 'node:crypto';
// Not '../http': its index loads the ops module, which loads the channels (an import cycle).
import { equalInConstantTime } from '../http/constant-time';

/**
 * `sha256=<hex HMAC-SHA256 of the body>`: how Meta signs WhatsApp webhooks with the app secret,
 * and how the generic channel signs in both directions.
 */
export function sha256Signature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Whether a signature header carries `expected`; hex digits may come in either case. */
export function signatureMatches(header: unknown, expected: string): boolean {
  return typeof header === 'string' && equalInConstantTime(header.trim().toLowerCase(), expected);
}
