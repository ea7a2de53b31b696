import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from './client.js';
import { startFixtureApp, type Platform } from './fixture-app.js';
import { recordUnhandledRejections } from './host-process.js';
import { eventually } from '../harness/eventually.js';

const COMMAND_TIMEOUT_MS = 500;
/** Time allowed beyond the command timeout for the HTTP exchange itself. */
const SLACK_MS = 250;
const UNAVAILABLE = { statusCode: 503, error: 'Service Unavailable', message: 'The session store is unavailable; please retry shortly' };

async function timed<T>(action: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = Date.now();
  const result = await action();
  return { result, ms: Date.now() - start };
}

describe.each<Platform>(['express', 'fastify'])('Redis unavailable on %s', (platform) => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;
  let rejections: ReturnType<typeof recordUnhandledRejections>;

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    server = await startRedisServer();
    ({ app, url } = await startFixtureApp(platform, { redis: server.url, redisNamespace: uniqueNamespace('down'), commandTimeoutMs: COMMAND_TIMEOUT_MS }));
  });

  afterAll(async () => {
    await app.close();
    await server.stop();
    rejections.stop();
  });

  it('with Redis stopped, requests that need the session get a clear 503 within the command timeout; others still get 200', async () => {
    const user = new CookieClient(url);
    await user.post('/login', { userId: 'before-outage' });
    await server.stop();

    expect(await new CookieClient(url).get('/plain')).toMatchObject({ status: 200, body: { ok: true } });
    expect(await user.get('/plain')).toMatchObject({ status: 200, body: { ok: true } });

    const cases: [string, () => Promise<{ status: number; body: unknown }>][] = [
      ['a guard reading the session', () => user.get('/me')],
      ['a handler reading the session', () => user.get('/peek')],
      ['a write to a new session', () => new CookieClient(url).post('/set', { name: 'a', value: 1 })],
      ['a logout', () => user.post('/logout')],
    ];
    for (const [label, request] of cases) {
      const { result, ms } = await timed(request);
      expect({ label, status: result.status, body: result.body }).toEqual({ label, status: 503, body: UNAVAILABLE });
      expect({ label, fast: ms < COMMAND_TIMEOUT_MS + SLACK_MS }).toEqual({ label, fast: true });
    }
  });

  it('Redis going away between loading and writing: still a 503, for a save and for an invalidate', async () => {
    await server.restart();
    const user = new CookieClient(url);
    await eventually(async () => expect((await user.post('/login', { userId: 'mid-request' })).status).toBe(200));

    const slowWrite = user.post('/set', { name: 'late', value: 1, delayMs: 300 });
    const slowLogout = user.post('/logout', { delayMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.stop();
    expect(await slowWrite).toMatchObject({ status: 503, body: UNAVAILABLE });
    expect(await slowLogout).toMatchObject({ status: 503, body: UNAVAILABLE });
  });

  it('once Redis is back on the same port, sessions work again without restarting the app', async () => {
    await server.restart();
    const user = new CookieClient(url);
    // ioredis reconnects on its own (at most a second apart); the first request may still see the outage.
    await eventually(async () => expect((await user.post('/login', { userId: 'after-outage' })).status).toBe(200));
    expect(await user.get('/me')).toMatchObject({ status: 200, body: { userId: 'after-outage' } });
    expect(await user.post('/logout')).toMatchObject({ status: 204 });
    expect((await user.get('/me')).status).toBe(401);
  });

  it('Redis paused (SIGSTOP) for longer than the timeout: 503 within the timeout, then service resumes by itself', async () => {
    const user = new CookieClient(url);
    await eventually(async () => expect((await user.post('/login', { userId: 'before-pause' })).status).toBe(200));
    server.pause();
    try {
      expect(await new CookieClient(url).get('/plain')).toMatchObject({ status: 200 });
      for (let i = 0; i < 3; i++) {
        const { result, ms } = await timed(() => user.get('/me'));
        expect({ status: result.status, body: result.body, fast: ms < COMMAND_TIMEOUT_MS + SLACK_MS }).toEqual({ status: 503, body: UNAVAILABLE, fast: true });
      }
    } finally {
      server.resume();
    }
    await eventually(async () => expect(await user.get('/me')).toMatchObject({ status: 200, body: { userId: 'before-pause' } }));
  });

  it('a Redis that lost its data (restarted without persistence): the old cookie simply finds no session, no error', async () => {
    const user = new CookieClient(url);
    await eventually(async () => expect((await user.post('/login', { userId: 'before-loss' })).status).toBe(200));
    const lostCookie = user.cookies.get('SESSION');
    await server.restart();
    await eventually(async () => expect((await user.get('/peek')).status).toBe(200));
    expect(user.cookies.get('SESSION')).toBe(lostCookie);
    expect(await user.get('/peek')).toMatchObject({ status: 200, body: { exists: false } });
    expect((await user.get('/me')).status).toBe(401);
    // Writing starts a fresh session under a new id.
    expect((await user.post('/set', { name: 'fresh', value: 1 })).status).toBe(200);
    expect(user.cookies.get('SESSION')).not.toBe(lostCookie);
    expect(await user.get('/peek')).toMatchObject({ status: 200, body: { exists: true } });
  });

  it('nothing was left as an unhandled rejection', () => {
    expect(rejections.reasons).toEqual([]);
  });
});
