import { AdminKey, CONSOLE_SESSION_MS } from './admin-key';

const TOKEN = 'admin-token-0123456789';
const NOW = 1_750_000_000_000;

describe('AdminKey', () => {
  const key = new AdminKey(TOKEN);

  it('recognises the token itself, and nothing close to it', () => {
    expect(key.isToken(TOKEN)).toBe(true);
    for (const other of ['', `${TOKEN}x`, TOKEN.slice(0, -1), TOKEN.toUpperCase()]) {
      expect(key.isToken(other)).toBe(false);
    }
  });

  it('signs a session that holds its expiry and never the token', () => {
    const session = key.newSession(NOW);
    expect(session).toMatch(new RegExp(`^${NOW + CONSOLE_SESSION_MS}\\.[\\w-]{43}$`));
    expect(session).not.toContain(TOKEN);
    expect(key.isSession(session, NOW)).toBe(true);
  });

  it('refuses a session once it has expired', () => {
    const session = new AdminKey(TOKEN, 60_000).newSession(NOW);
    expect(key.isSession(session, NOW + 59_999)).toBe(true);
    expect(key.isSession(session, NOW + 60_000)).toBe(false);
  });

  it('refuses a session whose expiry or mac was changed, or one signed with another token', () => {
    const session = key.newSession(NOW);
    const [expiresAt, mac] = session.split('.');
    const flipped = `${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    for (const forged of [
      `${Number(expiresAt) + 1}.${mac}`,
      `${expiresAt}.${flipped}`,
      `${expiresAt}.${mac}=`,
      `0${expiresAt}.${mac}`,
      new AdminKey(`${TOKEN}x`).newSession(NOW),
      '',
      TOKEN,
      expiresAt,
    ]) {
      expect([forged, key.isSession(forged, NOW)]).toEqual([forged, false]);
    }
  });

  it('derives a CSRF token from the session, checked against that session only', () => {
    const session = key.newSession(NOW);
    const other = key.newSession(NOW + 1);
    const csrf = key.csrfTokenFor(session);
    expect(csrf).not.toBe(key.csrfTokenFor(other));
    expect(session).not.toContain(csrf);
    expect(key.isCsrfTokenFor(session, csrf)).toBe(true);
    expect(key.isCsrfTokenFor(other, csrf)).toBe(false);
    expect(new AdminKey(`${TOKEN}x`).isCsrfTokenFor(session, csrf)).toBe(false);
    for (const given of [undefined, '', `${csrf}x`, csrf.slice(1), [csrf], { csrf }]) {
      expect(key.isCsrfTokenFor(session, given)).toBe(false);
    }
  });
});
