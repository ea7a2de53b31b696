import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from './client.js';
import { startFixtureApp, type Platform } from './fixture-app.js';
import { redisCost } from './redis-stats.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Redis cost per request, measured on a private server that only this app and the observer use
 * (sweeper quiet, one request at a time). A round trip is one socket read on the server.
 */
describe.each<Platform>(['express', 'fastify'])('Redis round trips per request on %s', (platform) => {
  let server: RedisServer;
  let observer: Redis;
  let app: INestApplication;
  let url: string;
  const client = () => new CookieClient(url);

  beforeAll(async () => {
    server = await startRedisServer();
    observer = new Redis(server.url, { enableAutoPipelining: false });
    ({ app, url } = await startFixtureApp(platform, { redis: server.url, redisNamespace: uniqueNamespace('trips'), sweepIntervalMs: 60_000 }));
    // Warm up: the first use of each script sends its source once (NOSCRIPT, then EVAL).
    const warm = client();
    await warm.post('/login', { userId: 'warm' });
    await warm.get('/me');
    await warm.post('/set', { name: 'n', value: 1 });
    await sleep(1100);
    await warm.get('/me'); // and the touch script, once the touch interval has passed
    await warm.post('/logout');
  });

  afterAll(async () => {
    await app.close();
    observer.disconnect();
    await server.stop();
  });

  it('a route that never touches the session costs no Redis command, with or without a session cookie', async () => {
    const anonymous = client();
    expect(await redisCost(observer, async () => expect((await anonymous.get('/plain')).status).toBe(200))).toEqual({ commands: 0, reads: 0, calls: {} });

    const user = client();
    await user.post('/login', { userId: 'u1' });
    expect(await redisCost(observer, async () => expect((await user.get('/plain')).status).toBe(200))).toEqual({ commands: 0, reads: 0, calls: {} });
  });

  it('a read-only request on an existing session (guard + handler) costs one round trip: one HGETALL', async () => {
    const user = client();
    await user.post('/login', { userId: 'u2' });
    const cost = await redisCost(observer, async () => expect(await user.get('/me')).toMatchObject({ status: 200, body: { userId: 'u2' } }));
    expect(cost).toEqual({ reads: 1, commands: 1, calls: { hgetall: 1 } });
    expect(user.lastSetCookies).toEqual([]);
  });

  it('a read once the touch interval (1 s) has passed also refreshes the idle timer: one script, sent after the load', async () => {
    const user = client();
    await user.post('/login', { userId: 'u2b' });
    await sleep(1100);
    const cost = await redisCost(observer, async () => {
      expect(await user.get('/me')).toMatchObject({ status: 200, body: { userId: 'u2b' } });
      await sleep(100); // the response did not wait for the touch; let it land
    });
    expect(cost.reads).toBe(2);
    expect(cost.calls).toEqual({ hgetall: 1, eval: 1, hmget: 1, hset: 1, pexpire: 1 });
  });

  it('a request that changes one attribute costs two round trips: load, then write the delta', async () => {
    const user = client();
    await user.post('/login', { userId: 'u3' });
    const cost = await redisCost(observer, async () => expect((await user.post('/set', { name: 'colour', value: 'blue' })).status).toBe(200));
    expect(cost.reads).toBe(2);
    // The save script writes the attribute only (HGET: it publishes the change only for a session with sockets).
    expect(cost.calls).toEqual({ hgetall: 1, eval: 1, exists: 1, hget: 1, hset: 1 });
  });

  it('a new session costs one round trip to store (hash and expiry index written together)', async () => {
    const user = client();
    const cost = await redisCost(observer, async () => expect((await user.post('/set', { name: 'first', value: 1 })).status).toBe(200));
    expect(cost.reads).toBe(1);
    expect(cost.calls).toMatchObject({ eval: 1, zadd: 1 });
  });

  it('a login from a visitor without a session costs two round trips: the session, then the principal index', async () => {
    const visitor = client();
    const cost = await redisCost(observer, async () => expect((await visitor.post('/login', { userId: 'newcomer' })).status).toBe(200));
    expect(cost.reads).toBe(2);
    expect(cost.calls).toMatchObject({ eval: 1, zadd: 1, sadd: 1 });
  });

  it('a logout costs three round trips: load, delete (with its event), then the index entries of the session', async () => {
    const user = client();
    await user.post('/login', { userId: 'leaver' });
    const cost = await redisCost(observer, async () => expect((await user.post('/logout')).status).toBe(204));
    expect(cost.reads).toBe(3);
    expect(cost.calls).toMatchObject({ hgetall: 1, eval: 1, del: 1, publish: 1, zrem: 1, srem: 1 });
  });

  it('a request that asks for a session it does not have, with no cookie, costs nothing', async () => {
    const anonymous = client();
    const cost = await redisCost(observer, async () => expect((await anonymous.get('/peek')).body).toEqual({ exists: false, userId: null }));
    expect(cost).toEqual({ commands: 0, reads: 0, calls: {} });
  });
});
