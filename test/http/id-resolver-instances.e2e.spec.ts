import { describe, expect, it } from '@jest/globals';
import {
  CompositeSessionIdResolver, CookieSessionIdResolver, HeaderSessionIdResolver, isValidSessionId, SessionOptionsError,
  type HttpExchange, type SessionIdResolver,
} from 'nestjs-redis-session';
import { CookieClient } from './client.js';
import { sessionIdOf, startFixtureApp, useFixtureApp, type Platform } from './fixture-app.js';

/**
 * A resolver as a user would write one against the public types: the id in `Authorization: Session <id>`,
 * sent back in `Authentication-Info` (RFC 7615's header for this).
 */
class AuthorizationSessionIdResolver implements SessionIdResolver {
  resolveSessionIds(exchange: HttpExchange): readonly string[] {
    const value = exchange.rawRequest.headers.authorization;
    const id = typeof value === 'string' && value.startsWith('Session ') ? value.slice('Session '.length) : undefined;
    return isValidSessionId(id) ? [id] : [];
  }

  setSessionId(exchange: HttpExchange, id: string): void {
    setHeader(exchange, 'Authentication-Info', `session="${id}"`);
  }

  expireSession(exchange: HttpExchange): void {
    setHeader(exchange, 'Authentication-Info', 'session=""');
  }
}

/** Fastify's reply wraps Node's response (`raw`) and sets headers with `header()`; Express' is Node's own. */
function setHeader(exchange: HttpExchange, name: string, value: string): void {
  const response = exchange.platformResponse as { raw?: unknown; header(n: string, v: string): unknown; setHeader(n: string, v: string): unknown };
  if (response.raw !== undefined) response.header(name, value);
  else response.setHeader(name, value);
}

describe.each<Platform>(['express', 'fastify'])('idResolver given as a resolver instance, on %s', (platform) => {
  describe('CompositeSessionIdResolver(cookie, header)', () => {
    const fixture = useFixtureApp(platform, {
      idResolver: new CompositeSessionIdResolver(new CookieSessionIdResolver(), new HeaderSessionIdResolver('X-Auth-Token')),
    });

    it('a browser (cookie) and an API client (header) share one app; a new id is told through both', async () => {
      const browser = new CookieClient(fixture.url);
      const login = await browser.post('/login', { userId: 'ada' });
      expect(login.status).toBe(200);
      const cookieId = sessionIdOf(browser.cookies.get('SESSION')!);
      expect(login.headers.get('x-auth-token')).toBe(cookieId);
      expect(await browser.get('/me')).toMatchObject({ status: 200, body: { userId: 'ada' } });

      const api = new CookieClient(fixture.url);
      const apiLogin = await api.post('/login', { userId: 'grace' });
      const token = apiLogin.headers.get('x-auth-token')!;
      expect(isValidSessionId(token)).toBe(true);
      const apiOnly = new CookieClient(fixture.url); // no cookies: the header alone
      expect(await apiOnly.get('/me', { 'x-auth-token': token })).toMatchObject({ status: 200, body: { userId: 'grace' } });
    });

    it('the first resolver that finds an id wins: the cookie over the header', async () => {
      const ada = new CookieClient(fixture.url);
      await ada.post('/login', { userId: 'ada' });
      const grace = new CookieClient(fixture.url);
      const token = (await grace.post('/login', { userId: 'grace' })).headers.get('x-auth-token')!;
      expect(await ada.get('/me', { 'x-auth-token': token })).toMatchObject({ status: 200, body: { userId: 'ada' } });
    });

    it('logout clears the cookie and empties the header', async () => {
      const browser = new CookieClient(fixture.url);
      await browser.post('/login', { userId: 'ada' });
      const logout = await browser.post('/logout');
      expect(logout.status).toBe(204);
      expect(logout.headers.get('x-auth-token')).toBe('');
      expect(browser.lastSetCookies.some((cookie) => cookie.startsWith('SESSION=;'))).toBe(true);
    });
  });

  describe('a resolver of the user\'s own', () => {
    const fixture = useFixtureApp(platform, { idResolver: new AuthorizationSessionIdResolver() });

    it('carries the id its own way: Authorization in, Authentication-Info out, and no cookie', async () => {
      const client = new CookieClient(fixture.url);
      const login = await client.post('/login', { userId: 'ada' });
      expect(client.lastSetCookies).toEqual([]);
      const id = /^session="(.+)"$/.exec(login.headers.get('authentication-info') ?? '')?.[1];
      expect(isValidSessionId(id)).toBe(true);
      expect(await new CookieClient(fixture.url).get('/me', { authorization: `Session ${id}` })).toMatchObject({ status: 200, body: { userId: 'ada' } });
      expect((await new CookieClient(fixture.url).get('/me', { authorization: 'Session not-an-id' })).status).toBe(401);
    });
  });

  it('an object that is not a resolver is refused at start-up, naming idResolver', async () => {
    const attempt = startFixtureApp(platform, { store: 'memory', idResolver: { resolveSessionIds: () => [] } as never }, { logger: false });
    await expect(attempt).rejects.toThrow(SessionOptionsError);
    await expect(attempt).rejects.toThrow(/"idResolver"/);
  });
});
