import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `sha256=<hex HMAC-SHA256 of the body>`: how Meta signs WhatsApp webhooks with the app secret,
 * and how the generic channel signs in both directions.
 */
export function sha256Signature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Compares in constant time; the length of what is compared is not secret. */
export function equalInConstantTime(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a signature header carries `expected`; hex digits may come in either case. */
export function signatureMatches(header: unknown, expected: string): boolean {
  return typeof header === 'string' && equalInConstantTime(header.trim().toLowerCase(), expected);
}
