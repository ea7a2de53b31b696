import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { CookieClient } from '../http/client.js';
import { sessionIdOf } from '../http/fixture-app.js';
import { redisCost } from '../http/redis-stats.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { sessionRedisClient, sessionRedisOption, uniqueNamespace, type SharedRedisClient } from '../harness/redis.js';
import { startCompatApp } from './compat-app.js';

const form = (fields: Record<string, string>) => ({ 'content-type': 'application/x-www-form-urlencoded', body: new URLSearchParams(fields).toString() });

describe('req.session with express-session\'s API (expressSessionApi), with csrf-sync and connect-flash', () => {
  const namespace = uniqueNamespace('compat');
  let app: { app: INestApplication; url: string };
  let redis: SharedRedisClient;

  beforeAll(async () => {
    app = await startCompatApp({ redis: sessionRedisOption(), redisNamespace: namespace });
    redis = sessionRedisClient();
  });

  afterAll(async () => {
    await app?.app.close();
    await redis?.quit();
  });

  /** A form POST as a browser sends it, with the client's cookie. */
  async function postForm(client: CookieClient, path: string, fields: Record<string, string>) {
    const { body, ...headers } = form(fields);
    const cookie = [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return fetch(client.baseUrl + path, { method: 'POST', headers: { ...headers, cookie }, body });
  }

  it('properties are attributes: set, read, spread, deleted; req.sessionID and Nest\'s own @Session() see the same session', async () => {
    const user = new CookieClient(app.url);
    expect((await user.post('/attr', { name: 'user', value: 'ada' })).body).toEqual({ ok: true });
    const id = sessionIdOf(user.cookies.get('SESSION')!);
    await user.post('/attr', { name: 'theme', value: { dark: true } });
    const attrs = await user.get('/attrs');
    expect(attrs.body).toEqual({
      spread: { cookie: expect.objectContaining({ path: '/', httpOnly: true }), user: 'ada', theme: { dark: true } },
      keys: ['cookie', 'user', 'theme'],
      hasUser: true,
      sessionID: id,
      id,
    });
    expect((await user.get('/nest-session')).body).toEqual({ user: 'ada' });
    // Stored as our own attributes, one field each.
    expect(await redis.hget(`${namespace}:sessions:{${id}}`, 'sessionAttr:user')).toBe('"ada"');
    await user.post('/attr', { name: 'theme', value: null });
    expect((await user.get('/attrs')).body.keys).toEqual(['cookie', 'user']);
  });

  it('writes deltas: two concurrent requests that set different properties both keep theirs', async () => {
    const user = new CookieClient(app.url);
    await user.post('/attr', { name: 'start', value: 1 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => user.post('/attr', { name: `p${i}`, value: i })));
    expect(Object.keys((await user.get('/attrs')).body.spread).sort()).toEqual(['cookie', 'p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9', 'start']);
  });

  it('stores a value changed in place (req.session.list.push)', async () => {
    const user = new CookieClient(app.url);
    expect((await user.post('/push', { item: 'a' })).body).toEqual({ list: ['a'] });
    expect((await user.post('/push', { item: 'b' })).body).toEqual({ list: ['a', 'b'] });
    expect((await user.post('/push', { item: 'c' })).body).toEqual({ list: ['a', 'b', 'c'] });
  });

  it('connect-flash: a message set on one request is read once on the next', async () => {
    const user = new CookieClient(app.url);
    expect((await user.post('/flash', { message: 'Saved!' })).body).toEqual({ queued: 1 });
    expect((await user.get('/flash')).body).toEqual({ messages: ['Saved!'] });
    expect((await user.get('/flash')).body).toEqual({ messages: [] });
  });

  it('csrf-sync: a form POST without the token is refused, with it accepted; the token changes at login', async () => {
    const user = new CookieClient(app.url);
    const { token } = (await user.get('/csrf')).body as { token: string };
    expect(token).toMatch(/^[0-9a-f]{32,}$/);
    expect((await postForm(user, '/form', {})).status).toBe(403);
    expect((await postForm(user, '/form', { _csrf: 'not-the-token' })).status).toBe(403);
    const accepted = await postForm(user, '/form', { _csrf: token });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ accepted: true });

    const before = user.cookies.get('SESSION');
    const login = await user.post('/login', { user: 'ada' });
    expect(user.cookies.get('SESSION')).not.toBe(before); // regenerate(): a new session id
    const rotated = login.body.token as string;
    expect(rotated).not.toBe(token);
    expect((await postForm(user, '/form', { _csrf: token })).status).toBe(403);
    expect((await postForm(user, '/form', { _csrf: rotated })).status).toBe(200);
    expect((await user.get('/attrs')).body.spread).toMatchObject({ user: 'ada' });
  });

  it('save(cb) writes at once, reload(cb) reads what another request stored, destroy(cb) ends the session', async () => {
    const user = new CookieClient(app.url);
    expect((await user.post('/save', { name: 'a', value: 1 })).body).toEqual({ saved: true });
    const id = sessionIdOf(user.cookies.get('SESSION')!);
    expect(await redis.hget(`${namespace}:sessions:{${id}}`, 'sessionAttr:a')).toBe('1');
    await redis.hset(`${namespace}:sessions:{${id}}`, 'sessionAttr:b', '2'); // another writer
    expect((await user.post('/reload')).body.spread).toMatchObject({ a: 1, b: 2 });
    expect((await user.post('/destroy')).status).toBe(204);
    expect(user.cookies.has('SESSION')).toBe(false);
    expect(await redis.exists(`${namespace}:sessions:{${id}}`)).toBe(0);
  });

  it('a property named __proto__ or constructor is a plain attribute; a value JSON cannot hold is refused with a clear error', async () => {
    const user = new CookieClient(app.url);
    expect((await user.post('/attr', { name: '__proto__', value: { polluted: true } })).body).toEqual({ ok: true });
    expect((await user.post('/attr', { name: 'constructor', value: 'x' })).body).toEqual({ ok: true });
    const { spread } = (await user.get('/attrs')).body;
    expect(Object.keys(spread).sort()).toEqual(['__proto__', 'constructor', 'cookie'].sort());
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await user.post('/bad')).body.error).toMatch(/Session attribute "fn" cannot be stored/);
    expect((await user.post('/attr', { name: 'save', value: 1 })).body.error).toMatch(/express-session's API/);
  });
});

describe('req.session costs no Redis call for a request without a session, and one round trip to read', () => {
  let server: RedisServer;
  let observer: Redis;
  let app: { app: INestApplication; url: string };

  beforeAll(async () => {
    server = await startRedisServer();
    observer = new Redis(server.url, { enableAutoPipelining: false });
    app = await startCompatApp({ redis: server.url, redisNamespace: uniqueNamespace('lazy'), sweepIntervalMs: 60_000, touchIntervalSeconds: 3600 });
  });

  afterAll(async () => {
    await app?.app.close();
    observer?.disconnect();
    await server?.stop();
  });

  it('reads nothing for a request with no session id, and one HGETALL for one with', async () => {
    await new CookieClient(app.url).get('/nest-session'); // warm: the app's own connections settled
    await new Promise((resolve) => setTimeout(resolve, 300));
    const anonymous = await redisCost(observer, async () => {
      expect((await new CookieClient(app.url).get('/nest-session')).body).toEqual({ user: null });
    });
    expect(anonymous.commands).toBe(0);
    const user = new CookieClient(app.url);
    await user.post('/attr', { name: 'user', value: 'ada' });
    await user.get('/nest-session'); // warm
    const read = await redisCost(observer, async () => {
      expect((await user.get('/nest-session')).body).toEqual({ user: 'ada' });
    });
    expect(read).toMatchObject({ commands: 1, reads: 1, calls: { hgetall: 1 } });
  });
});
