import {
  ForbiddenException,
  Injectable,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import type { CookieOptions, Request, Response } from 'express';
import { AppConfig } from '../config';
import { AdminKey } from './admin-key';

const BEARER = /^Bearer +(\S+) *$/i;
const SESSION_COOKIE = 'csb_console';
/** The form field that carries the CSRF token of the session. */
export const CSRF_FIELD = '_csrf';
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Who may use /admin: a caller with `Authorization: Bearer <ADMIN_API_TOKEN>`, or a browser
 * holding a console session cookie, which must also send its session's CSRF token with
 * anything but a read. Without ADMIN_API_TOKEN every admin route answers as a route that does
 * not exist.
 */
@Injectable()
export class AdminAccess {
  private readonly key?: AdminKey;

  constructor(config: AppConfig) {
    const token = config.admin.apiToken;
    this.key = token === undefined ? undefined : new AdminKey(token);
  }

  /** Throws 404 (disabled), 401 with a Bearer challenge, or 403 (a write without its CSRF token). */
  authorize(req: Request, res: Response): void {
    const key = this.keyFor(req);
    const bearer = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && key.isToken(bearer)) return;
    const session = this.sessionOf(req);
    if (session === undefined) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedException('a valid admin bearer token or console session is required');
    }
    if (!SAFE_METHODS.has(req.method) && !key.isCsrfTokenFor(session, formField(req, CSRF_FIELD))) {
      throw new ForbiddenException('the request does not carry the CSRF token of its session');
    }
  }

  /** Throws 404 while ADMIN_API_TOKEN is unset, for routes open without a login. */
  assertEnabled(req: Request): void {
    this.keyFor(req);
  }

  /** Sets the session cookie when `token` is ADMIN_API_TOKEN. */
  logIn(req: Request, res: Response, token: unknown): boolean {
    const key = this.keyFor(req);
    if (typeof token !== 'string' || !key.isToken(token)) return false;
    res.cookie(SESSION_COOKIE, key.newSession(), { ...cookieOptions(req), maxAge: key.sessionMs });
    return true;
  }

  logOut(req: Request, res: Response): void {
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
  }

  /** What the forms of a page served to this request carry; empty without a session. */
  csrfTokenFor(req: Request): string {
    const session = this.sessionOf(req);
    return session === undefined ? '' : this.keyFor(req).csrfTokenFor(session);
  }

  /** The request's session, if it holds a valid one. */
  private sessionOf(req: Request): string | undefined {
    const session = cookieNamed(req, SESSION_COOKIE);
    return session !== undefined && this.keyFor(req).isSession(session) ? session : undefined;
  }

  private keyFor(req: Request): AdminKey {
    if (!this.key) throw new NotFoundException(`Cannot ${req.method} ${req.originalUrl}`);
    return this.key;
  }
}

/** Sent back only to /admin, never to scripts, never from another site; over https when served so. */
function cookieOptions(req: Request): CookieOptions {
  return { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/admin' };
}

function cookieNamed(req: Request, name: string): string | undefined {
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}

function formField(req: Request, name: string): unknown {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null
    ? (body as Record<string, unknown>)[name]
    : undefined;
}
