import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { SessionOptionsError } from 'nestjs-redis-session';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from './client.js';
import { sessionIdOf, startFixtureApp, type Platform } from './fixture-app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** cookie.secrets (signing with rotation), Partitioned, Priority, the __Host-/__Secure- rules, and a rolling persistent cookie. */
describe.each<Platform>(['express', 'fastify'])('SESSION cookie features on %s', (platform) => {
  const redis = sessionRedisOption();
  const namespace = uniqueNamespace('cookie-sign');
  let signedOld: { app: INestApplication; url: string };
  let signedRotated: { app: INestApplication; url: string };
  let featured: { app: INestApplication; url: string };

  beforeAll(async () => {
    [signedOld, signedRotated, featured] = await Promise.all([
      startFixtureApp(platform, { redis, redisNamespace: namespace, cookie: { secrets: ['first-secret'] } }),
      startFixtureApp(platform, { redis, redisNamespace: namespace, cookie: { secrets: ['second-secret', 'first-secret'] } }),
      startFixtureApp(
        platform,
        { redis, redisNamespace: uniqueNamespace('cookie-features'), touchIntervalSeconds: 1, cookie: { name: '__Host-SID', secure: 'auto', partitioned: true, priority: 'High', maxAgeSeconds: 600 } },
        { trustProxy: true },
      ),
    ]);
  });

  afterAll(() => Promise.all([signedOld?.app.close(), signedRotated?.app.close(), featured?.app.close()]));

  it('signs the cookie with the first secret; any secret verifies (rotation); tampered, truncated or unsigned values are ignored', async () => {
    const user = new CookieClient(signedOld.url);
    await user.post('/login', { userId: 'ada' });
    const value = user.cookies.get('SESSION')!;
    const [encoded, mac] = value.split('.');
    expect(mac).toMatch(/^[A-Za-z0-9+/]{43}$/); // HMAC-SHA256, base64 without padding (cookie-signature)
    expect((await user.get('/me')).body).toMatchObject({ userId: 'ada' });

    // After the rotation: the new secret first, the old one still verifies: nobody is signed out.
    const rotated = new CookieClient(signedRotated.url);
    rotated.cookies.set('SESSION', value);
    expect((await rotated.get('/me')).body).toMatchObject({ userId: 'ada' });

    for (const bad of [encoded, `${encoded}.`, `${encoded}.${mac.slice(1)}`, `${encoded}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`, `${mac}.${encoded}`, `${value}.${mac}`]) {
      const forged = new CookieClient(signedOld.url);
      forged.cookies.set('SESSION', bad);
      const response = await forged.get('/me');
      expect(response.status).toBe(401);
    }
    // The id under the signature is the session's, as usual.
    expect(sessionIdOf(encoded)).toHaveLength(28);
  });

  it('never fails on a signed cookie of any shape (fuzzed)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 120 }), async (text) => {
        const response = await fetch(`${signedOld.url}/me`, { headers: { cookie: `SESSION=${encodeURIComponent(text)}.${encodeURIComponent(text)}` } });
        expect(response.status).toBe(401);
      }),
      { numRuns: 150 },
    );
  });

  it('sets Partitioned (when Secure) and Priority, on a __Host- cookie; and rolls a persistent cookie as the session is used', async () => {
    const user = new CookieClient(featured.url);
    await user.post('/login', { userId: 'grace' }, { 'x-forwarded-proto': 'https' });
    const [first] = user.lastSetCookies;
    expect(first).toMatch(/^__Host-SID=[^;]+; Max-Age=600; Expires=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax; Partitioned; Priority=High$/);
    await user.get('/me', { 'x-forwarded-proto': 'https' });
    expect(user.lastSetCookies).toEqual([]); // within the touch interval
    await sleep(1100);
    await user.get('/me', { 'x-forwarded-proto': 'https' });
    expect(user.lastSetCookies[0]).toMatch(/^__Host-SID=[^;]+; Max-Age=600; /); // its expiry moved with the session
    // Over plain http, no Secure: and so no Partitioned either (browsers refuse it without Secure).
    const plain = new CookieClient(featured.url);
    await plain.post('/login', { userId: 'plain' });
    expect(plain.lastSetCookies[0]).not.toMatch(/Secure|Partitioned/);
  });
});

describe('cookie options checked at start-up', () => {
  it.each([
    [{ name: '__Host-SID', secure: false }, 'must be Secure'],
    [{ name: '__Host-SID', path: '/app' }, 'Path=/ and no Domain'],
    [{ name: '__Host-SID', domain: 'example.com' }, 'Path=/ and no Domain'],
    [{ name: '__Secure-SID', secure: false }, 'must be Secure'],
    [{ partitioned: true, secure: false }, 'Partitioned cookie must be Secure'],
    [{ priority: 'Urgent' }, 'expected one of Low, Medium, High'],
    [{ secrets: [] }, 'non-empty array'],
    [{ secrets: ['ok', ''] }, 'non-empty array'],
  ])('refuses %j', async (cookie, message) => {
    const started = startFixtureApp('express', { redis: sessionRedisOption(), cookie: cookie as never }, { logger: false });
    await expect(started).rejects.toThrow(SessionOptionsError);
    await expect(started).rejects.toThrow(message);
  });
});
