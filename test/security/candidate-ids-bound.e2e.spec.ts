import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { generateSessionId } from 'nestjs-redis-session';
import { CookieClient } from '../http/client.js';
import { redisCost } from '../http/redis-stats.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { handshake } from '../websocket/socket-client.js';
import { startWsFixtureApp } from '../websocket/fixture-app.js';

const cookieOf = (id: string) => `SESSION=${Buffer.from(id).toString('base64')}`;

/**
 * A request (or a handshake) with 300 well-formed SESSION cookies, 15 KB, under Node's header
 * limit: without a bound, 300 sequential HGETALLs; 20 such requests, 6,000. Spring has the flaw.
 * At most three candidate ids are looked up. Measured on a private server (INFO commandstats).
 */
describe('Candidate ids a request may make us look up: at most 3', () => {
  let server: RedisServer;
  let observer: Redis;
  let app: INestApplication;
  let url: string;
  let liveCookie: string;

  beforeAll(async () => {
    server = await startRedisServer();
    observer = new Redis(server.url, { enableAutoPipelining: false });
    ({ app, url } = await startWsFixtureApp({ redis: server.url, redisNamespace: uniqueNamespace('bound'), sweepIntervalMs: 60_000, touchIntervalSeconds: 3600 }));
    const user = new CookieClient(url);
    await user.post('/login', { userId: 'u' });
    liveCookie = `SESSION=${user.cookies.get('SESSION')}`;
    await user.get('/get'); // warm: scripts cached, the touch done
  });

  afterAll(async () => {
    await app?.close();
    observer?.disconnect();
    await server?.stop();
  });

  /** 300 cookies of ids nobody holds, with `live` (if any) at `position`. */
  function manyCookies(live?: string, position = 299): string {
    const cookies = Array.from({ length: 300 }, () => cookieOf(generateSessionId()));
    if (live) cookies[position] = live;
    return cookies.join('; ');
  }

  it('over HTTP: 300 cookies cost 3 lookups; 20 such requests 60', async () => {
    const header = manyCookies();
    expect(header.length).toBeGreaterThan(12_000);
    const one = await redisCost(observer, async () => {
      const response = await fetch(`${url}/get`, { headers: { cookie: header } });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ exists: false });
    });
    expect(one.calls).toEqual({ hgetall: 3 });

    const twenty = await redisCost(observer, () =>
      Promise.all(Array.from({ length: 20 }, () => fetch(`${url}/get`, { headers: { cookie: manyCookies() } }).then((r) => r.text()))),
    );
    expect(twenty.calls).toEqual({ hgetall: 60 });
  });

  it('over HTTP: a live session among the first three is still found; one further back is not looked up', async () => {
    const found = await fetch(`${url}/get`, { headers: { cookie: manyCookies(liveCookie, 2) } });
    expect(await found.json()).toMatchObject({ exists: true });
    const cost = await redisCost(observer, async () => {
      const ignored = await fetch(`${url}/get`, { headers: { cookie: manyCookies(liveCookie, 3) } });
      expect(await ignored.json()).toMatchObject({ exists: false });
    });
    expect(cost.calls).toEqual({ hgetall: 3 });
  });

  it('over Socket.IO: a handshake with 300 cookies and a token costs 3 lookups, and is refused', async () => {
    const cost = await redisCost(observer, async () => {
      const outcome = await handshake(url, { cookie: manyCookies(), auth: { token: generateSessionId() } });
      expect(outcome.kind).toBe('refused');
    });
    expect(cost.calls).toEqual({ hgetall: 3 });
  });
});
