import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { SessionOptionsError } from 'nestjs-redis-session';
import { CookieClient } from '../http/client.js';
import { sessionIdOf } from '../http/fixture-app.js';
import { keysMatching, sessionRedisClient, sessionRedisOption, uniqueNamespace, type SharedRedisClient } from '../harness/redis.js';
import { startCompatApp } from './compat-app.js';
import { oldSession, startOldApp } from './old-express-session-app.js';

const sessionCookieOf = (setCookies: string[], name: string) => setCookies.find((cookie) => cookie.startsWith(`${name}=`));

/** migrateFromExpressSession: sessions written by real express-session + connect-redis are imported on first use. */
describe('Live migration from express-session + connect-redis', () => {
  const namespace = uniqueNamespace('migrate');
  let redis: SharedRedisClient;
  let old: { url: string; close(): Promise<void> };
  let rotatedOld: { url: string; close(): Promise<void> };
  let app: { app: INestApplication; url: string };

  beforeAll(async () => {
    redis = sessionRedisClient();
    [old, rotatedOld] = await Promise.all([startOldApp(redis, 'old-secret'), startOldApp(redis, 'older-secret')]);
    app = await startCompatApp({
      redis: sessionRedisOption(),
      redisNamespace: namespace,
      migrateFromExpressSession: { secrets: ['old-secret', 'older-secret'] },
    });
  });

  afterAll(async () => {
    await Promise.all([app?.app.close(), old?.close(), rotatedOld?.close()]);
    await redis?.quit();
  });

  it('imports the old session once: attributes kept, old key deleted, our cookie issued, the old one cleared', async () => {
    const { cookie, sessionID } = await oldSession(old.url, 'ada');
    expect(await redis.exists(`sess:${sessionID}`)).toBe(1);
    const user = new CookieClient(app.url);
    user.cookies.set('connect.sid', cookie.slice('connect.sid='.length));

    const first = await user.get('/attrs');
    expect(first.status).toBe(200);
    expect(first.body.spread).toEqual({ cookie: expect.any(Object), user: 'ada', cart: ['book', 'pen'] });
    expect(sessionCookieOf(user.lastSetCookies, 'SESSION')).toBeDefined();
    expect(sessionCookieOf(user.lastSetCookies, 'connect.sid')).toMatch(/^connect\.sid=; .*Expires=Thu, 01 Jan 1970/);
    expect(user.cookies.has('connect.sid')).toBe(false);
    expect(await redis.exists(`sess:${sessionID}`)).toBe(0);
    const id = sessionIdOf(user.cookies.get('SESSION')!);
    expect(await redis.hget(`${namespace}:sessions:{${id}}`, 'sessionAttr:user')).toBe('"ada"');

    // From now on, ours alone.
    const second = await user.get('/attrs');
    expect(second.body.spread).toMatchObject({ user: 'ada' });
    expect(user.lastSetCookies).toEqual([]);
  });

  it('accepts any of the secrets (key rotation)', async () => {
    const { cookie } = await oldSession(rotatedOld.url, 'grace');
    const response = await fetch(`${app.url}/attrs`, { headers: { cookie } });
    expect(((await response.json()) as { spread: object }).spread).toMatchObject({ user: 'grace' });
  });

  it('two parallel first requests import it once, into one session', async () => {
    const { cookie, sessionID } = await oldSession(old.url, 'lin');
    const responses = await Promise.all(Array.from({ length: 2 }, () => fetch(`${app.url}/attrs`, { headers: { cookie } })));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { spread: { user?: string }; sessionID: string }[];
    expect(bodies.map((body) => body.spread.user)).toEqual(['lin', 'lin']);
    expect(bodies[0].sessionID).toBe(bodies[1].sessionID);
    expect(await redis.exists(`sess:${sessionID}`)).toBe(0);
    const keys = await keysMatching(redis, `${namespace}:sessions:*`);
    const users = await Promise.all(keys.map((key) => redis.hget(key, 'sessionAttr:user')));
    expect(users.filter((user) => user === '"lin"')).toHaveLength(1);
  });

  it('ignores unsigned, badly signed, truncated and unknown old cookies, and leaves the old session where it is', async () => {
    const { cookie, sessionID } = await oldSession(old.url, 'kept');
    const value = cookie.slice('connect.sid='.length);
    for (const bad of [
      `connect.sid=${sessionID}`, // unsigned
      `connect.sid=${value.slice(0, -2)}xx`, // signature changed
      `connect.sid=${value.slice(0, -10)}`, // truncated
      `connect.sid=s%3A${'A'.repeat(32)}.${value.split('.')[1]}`, // another id with this one's signature
      'connect.sid=%E0%A4%A', // not URL-encoding
      'connect.sid=s%3A',
    ]) {
      const response = await fetch(`${app.url}/attrs`, { headers: { cookie: bad } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { spread: object }).spread).toEqual({ cookie: expect.any(Object) });
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    expect(await redis.exists(`sess:${sessionID}`)).toBe(1);
  });

  it('never fails on an old cookie of any shape (fuzzed)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const value = encodeURIComponent(text);
        const response = await fetch(`${app.url}/attrs`, { headers: { cookie: `connect.sid=${value}; connect.sid=s%3A${value}` } });
        expect(response.status).toBe(200);
        expect(((await response.json()) as { spread: object }).spread).toEqual({ cookie: expect.any(Object) });
      }),
      { numRuns: 200 },
    );
  });

  it('refuses bad migration options at start-up, naming them', async () => {
    for (const [migrateFromExpressSession, option, store] of [
      [{ secrets: [] }, 'migrateFromExpressSession.secrets', undefined],
      [{ secrets: [''] }, 'migrateFromExpressSession.secrets', undefined],
      [{ secret: 'x' }, 'migrateFromExpressSession.secret', undefined],
      [{ secrets: ['x'], prefix: 'se{ss}:' }, 'migrateFromExpressSession.prefix', undefined],
      [{ secrets: ['x'], cookieName: 'a b' }, 'migrateFromExpressSession.cookieName', undefined],
      [{ secrets: ['x'] }, 'needs the Redis store', 'memory'],
    ] as const) {
      const started = startCompatApp({ redis: sessionRedisOption(), store: store as never, migrateFromExpressSession: migrateFromExpressSession as never });
      await expect(started).rejects.toThrow(SessionOptionsError);
      await expect(started).rejects.toThrow(option);
    }
  });
});
