import { ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { CookieOptions, Request, Response } from 'express';
import { AppConfig } from '../config';
import { AdminAccess } from './admin-access';
import { AdminKey } from './admin-key';

const TOKEN = 'admin-token-0123456789';

function access(apiToken?: string): AdminAccess {
  return new AdminAccess(
    AppConfig.fromEnv({
      AWS_REGION: 'us-east-1',
      CONNECT_INSTANCE_ID: 'instance-1',
      CONNECT_CONTACT_FLOW_ID: 'flow-1',
      CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:stream',
      ADMIN_API_TOKEN: apiToken,
    }),
  );
}

interface Sent {
  headers: Map<string, string>;
  cookies: Map<string, { value: string; options: CookieOptions }>;
  cleared: Map<string, CookieOptions>;
}

function exchange(
  request: { method?: string; authorization?: string; cookie?: string; body?: unknown } = {},
  secure = false,
) {
  const req = {
    method: request.method ?? 'GET',
    originalUrl: '/admin/jobs',
    headers: {
      ...(request.authorization === undefined ? {} : { authorization: request.authorization }),
      ...(request.cookie === undefined ? {} : { cookie: request.cookie }),
    },
    body: request.body,
    secure,
  } as unknown as Request;
  const sent: Sent = { headers: new Map(), cookies: new Map(), cleared: new Map() };
  const res = {
    setHeader: (name: string, value: string) => sent.headers.set(name, value),
    cookie: (name: string, value: string, options: CookieOptions) =>
      sent.cookies.set(name, { value, options }),
    clearCookie: (name: string, options: CookieOptions) => sent.cleared.set(name, options),
  } as unknown as Response;
  return { req, res, sent };
}

/** Logs in and answers the Cookie header a browser would send back. */
function loggedIn(admin: AdminAccess, token = TOKEN): string {
  const { req, res, sent } = exchange({ method: 'POST' });
  expect(admin.logIn(req, res, token)).toBe(true);
  return `theme=dark; csb_console=${sent.cookies.get('csb_console')!.value}`;
}

describe('AdminAccess', () => {
  it('lets the configured bearer token in, whatever the case of the scheme, for reads and writes', () => {
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `Bearer  ${TOKEN} `]) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const { req, res } = exchange({ method, authorization });
        expect(() => access(TOKEN).authorize(req, res)).not.toThrow();
      }
    }
  });

  it('answers 401 with a Bearer challenge without the token, with another one or another scheme', () => {
    for (const authorization of [
      undefined,
      '',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${TOKEN}`,
      TOKEN,
      `Bearer ${TOKEN} extra`,
    ]) {
      const { req, res, sent } = exchange({ authorization });
      expect(() => access(TOKEN).authorize(req, res)).toThrow(UnauthorizedException);
      expect(sent.headers.get('WWW-Authenticate')).toBe('Bearer');
    }
  });

  it('answers as a route that does not exist when ADMIN_API_TOKEN is unset', () => {
    const { req, res, sent } = exchange({ authorization: `Bearer ${TOKEN}` });
    expect(() => access().authorize(req, res)).toThrow(
      new NotFoundException('Cannot GET /admin/jobs'),
    );
    expect(() => access().assertEnabled(req)).toThrow(NotFoundException);
    expect(() => access().logIn(req, res, TOKEN)).toThrow(NotFoundException);
    expect(sent.headers.size).toBe(0);
    expect(sent.cookies.size).toBe(0);
  });

  it('logs in with the token only, into an HttpOnly, SameSite=Strict cookie for /admin that is not the token', () => {
    const admin = access(TOKEN);
    for (const wrong of [`${TOKEN}x`, '', undefined, [TOKEN]]) {
      const { req, res, sent } = exchange({ method: 'POST' });
      expect(admin.logIn(req, res, wrong)).toBe(false);
      expect(sent.cookies.size).toBe(0);
    }
    const { req, res, sent } = exchange({ method: 'POST' });
    expect(admin.logIn(req, res, TOKEN)).toBe(true);
    const cookie = sent.cookies.get('csb_console')!;
    expect(cookie.value).not.toContain(TOKEN);
    expect(cookie.options).toEqual({
      httpOnly: true,
      sameSite: 'strict',
      secure: false,
      path: '/admin',
      maxAge: 8 * 3_600_000,
    });
  });

  it('marks the cookie Secure when the request came over https', () => {
    const { req, res, sent } = exchange({ method: 'POST' }, true);
    access(TOKEN).logIn(req, res, TOKEN);
    expect(sent.cookies.get('csb_console')!.options.secure).toBe(true);
  });

  it('lets a session read, and write only with the CSRF token of that session', () => {
    const admin = access(TOKEN);
    const cookie = loggedIn(admin);
    const page = exchange({ cookie });
    expect(() => admin.authorize(page.req, page.res)).not.toThrow();
    const csrf = admin.csrfTokenFor(page.req);
    expect(csrf).not.toBe('');

    const withCsrf = exchange({ method: 'POST', cookie, body: { _csrf: csrf } });
    expect(() => admin.authorize(withCsrf.req, withCsrf.res)).not.toThrow();
    for (const body of [undefined, {}, { _csrf: '' }, { _csrf: `${csrf}x` }, { csrf }]) {
      const write = exchange({ method: 'POST', cookie, body });
      expect(() => admin.authorize(write.req, write.res)).toThrow(ForbiddenException);
    }
    const key = new AdminKey(TOKEN);
    const anotherSessions = key.csrfTokenFor(key.newSession(Date.now() + 1_000));
    const foreign = exchange({ method: 'DELETE', cookie, body: { _csrf: anotherSessions } });
    expect(() => admin.authorize(foreign.req, foreign.res)).toThrow(ForbiddenException);
  });

  it('does not take a forged or foreign session, and gives no CSRF token without a session', () => {
    const admin = access(TOKEN);
    const foreign = loggedIn(access(`${TOKEN}-other`), `${TOKEN}-other`);
    for (const cookie of [foreign, 'csb_console=', `csb_console=${TOKEN}`, 'other=1']) {
      const { req, res, sent } = exchange({ cookie });
      expect(() => admin.authorize(req, res)).toThrow(UnauthorizedException);
      expect(sent.headers.get('WWW-Authenticate')).toBe('Bearer');
      expect(admin.csrfTokenFor(req)).toBe('');
    }
  });

  it('logs out by clearing the cookie where it was set', () => {
    const { req, res, sent } = exchange({ method: 'POST' });
    access(TOKEN).logOut(req, res);
    expect(sent.cleared.get('csb_console')).toEqual({
      httpOnly: true,
      sameSite: 'strict',
      secure: false,
      path: '/admin',
    });
  });
});
