import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from './client.js';
import { startFixtureApp, type Platform } from './fixture-app.js';

const attributesOf = (setCookie: string) => setCookie.split('; ').slice(1);

describe.each<Platform>(['express', 'fastify'])('SESSION cookie attributes on %s', (platform) => {
  const redis = sessionRedisOption();
  let behindTrustedProxy: { app: INestApplication; url: string };
  let untrusting: { app: INestApplication; url: string };
  let configured: { app: INestApplication; url: string };

  beforeAll(async () => {
    behindTrustedProxy = await startFixtureApp(platform, { redis, redisNamespace: uniqueNamespace('cookie-trust') }, { trustProxy: true });
    untrusting = await startFixtureApp(platform, { redis, redisNamespace: uniqueNamespace('cookie-notrust') });
    configured = await startFixtureApp(platform, {
      redis,
      redisNamespace: uniqueNamespace('cookie-options'),
      cookie: { name: 'SID', domain: 'app.example.test', maxAgeSeconds: 3600, sameSite: 'Strict' },
    });
  });

  afterAll(async () => {
    await Promise.all([behindTrustedProxy.app.close(), untrusting.app.close(), configured.app.close()]);
  });

  it('behind a trusted proxy, X-Forwarded-Proto: https makes the cookie Secure (also when it is cleared)', async () => {
    const client = new CookieClient(behindTrustedProxy.url);
    await client.post('/login', { userId: 'secure' }, { 'x-forwarded-proto': 'https' });
    expect(attributesOf(client.lastSetCookies[0])).toEqual(['Path=/', 'Secure', 'HttpOnly', 'SameSite=Lax']);
    await client.post('/logout', {}, { 'x-forwarded-proto': 'https' });
    expect(client.lastSetCookies[0]).toMatch(/^SESSION=; Max-Age=0; Expires=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
  });

  it('behind a trusted proxy, a plain http request gets no Secure flag', async () => {
    const client = new CookieClient(behindTrustedProxy.url);
    await client.post('/set', { name: 'a', value: 1 }, { 'x-forwarded-proto': 'http' });
    expect(attributesOf(client.lastSetCookies[0])).toEqual(['Path=/', 'HttpOnly', 'SameSite=Lax']);
  });

  it('without trust in the proxy, X-Forwarded-Proto is ignored: no Secure flag', async () => {
    const client = new CookieClient(untrusting.url);
    await client.post('/set', { name: 'a', value: 1 }, { 'x-forwarded-proto': 'https' });
    expect(attributesOf(client.lastSetCookies[0])).toEqual(['Path=/', 'HttpOnly', 'SameSite=Lax']);
  });

  it('name, domain, maxAgeSeconds and sameSite appear as configured, on setting and on clearing', async () => {
    const client = new CookieClient(configured.url);
    const before = Date.now();
    await client.post('/login', { userId: 'configured' });
    const [cookie] = client.lastSetCookies;
    expect(cookie).toMatch(/^SID=[A-Za-z0-9+/]{38}==; Max-Age=3600; Expires=[^;]+; Path=\/; Domain=app\.example\.test; HttpOnly; SameSite=Strict$/);
    const expires = Date.parse(/Expires=([^;]+)/.exec(cookie)![1]);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000);
    expect((await client.get('/me')).body.userId).toBe('configured');

    await client.post('/logout');
    // A browser deletes a cookie only when Domain and Path match the ones it was set with.
    expect(client.lastSetCookies).toEqual(['SID=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Domain=app.example.test; HttpOnly; SameSite=Strict']);
  });

  it('a cookie named SESSION is not read when the cookie is configured as SID', async () => {
    const owner = new CookieClient(configured.url);
    await owner.post('/set', { name: 'a', value: 1 });
    const impostor = new CookieClient(configured.url);
    impostor.cookies.set('SESSION', owner.cookies.get('SID')!);
    expect((await impostor.get('/peek')).body.exists).toBe(false);
  });
});
