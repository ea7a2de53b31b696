import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CookieClient } from '../http/client.js';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { startAccountApp, type AccountInstance } from './account-fixture-app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The SESSION cookie's Max-Age in the last response, or undefined for a browser-session cookie (or none sent). */
function maxAgeOf(device: CookieClient): number | undefined {
  const cookie = device.lastSetCookies.find((setCookie) => setCookie.startsWith('SESSION='));
  const match = cookie?.match(/; Max-Age=(\d+)/);
  return match ? Number(match[1]) : undefined;
}

/** "Remember me": a session with its own idle interval and a persistent cookie that follows it. */
describe('rememberMe()', () => {
  let app: AccountInstance;
  let capped: AccountInstance;

  beforeAll(async () => {
    const common = { redis: sessionRedisOption(), redisNamespace: uniqueNamespace('remember'), touchIntervalSeconds: 1 };
    [app, capped] = await Promise.all([startAccountApp(common), startAccountApp({ ...common, maxSessionLifetimeSeconds: 60 })]);
  });

  afterAll(() => Promise.all([app?.app.close(), capped?.app.close()]));

  it('gives a remembered session a persistent cookie as long as its interval; other sessions keep a browser-session cookie', async () => {
    const remembered = new CookieClient(app.url);
    await remembered.post('/login', { user: 'rae', rememberMe: 3600 });
    expect(maxAgeOf(remembered)).toBeGreaterThanOrEqual(3599);
    expect(maxAgeOf(remembered)).toBeLessThanOrEqual(3600);
    expect(remembered.lastSetCookies[0]).toMatch(/; Expires=\w{3}, \d\d \w{3} \d{4} /);
    expect((await remembered.get('/me')).body).toMatchObject({ isRemembered: true });

    const plain = new CookieClient(app.url);
    await plain.post('/login', { user: 'sid' });
    expect(plain.lastSetCookies).toHaveLength(1);
    expect(maxAgeOf(plain)).toBeUndefined();
    await sleep(1100);
    await plain.get('/me'); // touched, and still no persistent cookie
    expect(plain.lastSetCookies).toEqual([]);
  });

  it('re-issues the persistent cookie as the session is touched (at most once per touch interval), so it never expires first', async () => {
    const device = new CookieClient(app.url);
    await device.post('/login', { user: 'ray', rememberMe: 120 });
    expect(maxAgeOf(device)).toBeGreaterThanOrEqual(119);
    await device.get('/me');
    expect(device.lastSetCookies).toEqual([]); // within the touch interval: no new cookie
    await sleep(1100);
    await device.get('/me');
    expect(maxAgeOf(device)).toBeGreaterThanOrEqual(119);
    expect(device.lastSetCookies[0]).toContain(`SESSION=${device.cookies.get('SESSION')}`);
    await device.get('/me');
    expect(device.lastSetCookies).toEqual([]);
  });

  it('never outlives the absolute lifetime: the cookie lasts until the earlier deadline', async () => {
    const device = new CookieClient(capped.url);
    await device.post('/login', { user: 'roz', rememberMe: 3600 });
    expect(maxAgeOf(device)).toBeLessThanOrEqual(60);
    expect(maxAgeOf(device)).toBeGreaterThanOrEqual(58);
  });

  it('a remembered session keeps its interval across instances and requests', async () => {
    const device = new CookieClient(app.url);
    await device.post('/login', { user: 'rik', rememberMe: true });
    expect(maxAgeOf(device)).toBeGreaterThanOrEqual(30 * 24 * 3600 - 1);
    const me = await device.get('/me');
    expect(me.body.expiresAt - Date.now()).toBeGreaterThan(30 * 24 * 3600 * 1000 - 5000);
  });
});
