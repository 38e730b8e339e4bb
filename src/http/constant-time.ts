import { timingSafeEqual } from 'node:crypto';

/** Compares in constant time; the length of what is compared is not secret. */
export function equalInConstantTime(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
