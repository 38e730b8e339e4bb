import { createHmac } from 'node:crypto';
import { equalInConstantTime } from '../http';

/** How long a console login lasts: a working day. */
export const CONSOLE_SESSION_MS = 8 * 3_600_000;

const SESSION = /^(\d{1,15})\.([\w-]{43})$/;

/**
 * ADMIN_API_TOKEN and what the console derives from it. A session is `<expiry>.<mac>`, the mac
 * being HMAC-SHA256 keyed with the token over the expiry: the cookie never holds the token, and
 * a new token ends every session. A form's CSRF token is an HMAC of the session, so only a page
 * served to the holder of the session cookie knows it. Every comparison is in constant time.
 */
export class AdminKey {
  constructor(
    private readonly token: string,
    readonly sessionMs = CONSOLE_SESSION_MS,
  ) {}

  isToken(given: string): boolean {
    return equalInConstantTime(given, this.token);
  }

  newSession(now = Date.now()): string {
    const expiresAt = String(now + this.sessionMs);
    return `${expiresAt}.${this.mac(`console-session:${expiresAt}`)}`;
  }

  isSession(session: string, now = Date.now()): boolean {
    const parts = SESSION.exec(session);
    if (!parts) return false;
    const [, expiresAt, mac] = parts;
    return (
      Number(expiresAt) > now && equalInConstantTime(mac, this.mac(`console-session:${expiresAt}`))
    );
  }

  csrfTokenFor(session: string): string {
    return this.mac(`console-csrf:${session}`);
  }

  isCsrfTokenFor(session: string, given: unknown): boolean {
    return typeof given === 'string' && equalInConstantTime(given, this.csrfTokenFor(session));
  }

  private mac(message: string): string {
    return createHmac('sha256', this.token).update(message).digest('base64url');
  }
}
