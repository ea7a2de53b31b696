import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom, filter, take, timeout } from 'rxjs';
import { SessionEvents, SessionRegistry, type SessionInfo } from 'nestjs-redis-session';
import { CookieClient } from '../http/client.js';
import { sessionIdOf } from '../http/fixture-app.js';
import { keysMatching, sessionRedisClient, sessionRedisOption, uniqueNamespace, type SharedRedisClient } from '../harness/redis.js';
import { connectSocket, nextEvent } from '../websocket/socket-client.js';
import { startAccountApp, type AccountInstance } from './account-fixture-app.js';

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';

/** One user signed in on one device: a cookie jar that sends that device's User-Agent. */
async function signIn(url: string, user: string, userAgent = BROWSER): Promise<CookieClient> {
  const device = new CookieClient(url);
  const send = device.request.bind(device);
  device.request = (method, path, body, headers = {}) => send(method, path, body, { 'user-agent': userAgent, ...headers });
  const response = await device.post('/login', { user });
  if (response.status !== 200) throw new Error(`login failed: HTTP ${response.status}`);
  return device;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sessionIdIn = (device: CookieClient): string => sessionIdOf(device.cookies.get('SESSION')!);

/** The session list, and the row of each device asked about. */
async function listOf(device: CookieClient): Promise<SessionInfo[]> {
  const response = await device.get('/sessions');
  expect(response.status).toBe(200);
  return response.body;
}

describe('SessionRegistry: every session of a user, visible and revocable, on every instance', () => {
  const namespace = uniqueNamespace('registry');
  let a: AccountInstance;
  let b: AccountInstance;
  let redis: SharedRedisClient;

  beforeAll(async () => {
    const options = { redis: sessionRedisOption(), redisNamespace: namespace, sweepIntervalMs: 100 };
    [a, b] = await Promise.all([startAccountApp(options), startAccountApp(options)]);
    redis = sessionRedisClient();
  });

  afterAll(async () => {
    await Promise.all([a?.app.close(), b?.app.close()]);
    await redis?.quit();
  });

  it('lists the sessions of one user newest first, with handles that are not (and do not reveal) the ids', async () => {
    const laptop = await signIn(a.url, 'ada', BROWSER);
    await sleep(5); // distinct creation times, for the order
    const phone = await signIn(b.url, 'ada', PHONE);
    await signIn(a.url, 'grace'); // another user's session is never listed

    const sessions = await listOf(phone);
    expect(sessions).toHaveLength(2);
    // Compacted: the tokens every browser sends dropped, at most 64 characters (a session hash stays compact in Redis).
    expect(sessions.map((s) => s.userAgent)).toEqual(['(iPhone; CPU iPhone OS 18_1 like Mac OS X) Version/18.1 Mobile/1', '(X11; Linux x86_64) Chrome/131.0.0.0']);
    expect(sessions.map((s) => s.current)).toEqual([true, false]);
    expect(sessions[0].creationTime).toBeGreaterThanOrEqual(sessions[1].creationTime);
    for (const info of sessions) {
      expect(Object.keys(info).sort()).toEqual(['creationTime', 'current', 'expiresAt', 'handle', 'ip', 'lastAccessedTime', 'userAgent']);
      expect(info.ip).toBe('127.0.0.1');
      expect(info.expiresAt).toBe(info.lastAccessedTime + 1800 * 1000);
      expect(info.handle).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
    // Neither the id nor its cookie form appears anywhere in what the page gets.
    const page = JSON.stringify(sessions);
    for (const device of [laptop, phone]) {
      expect(page).not.toContain(sessionIdIn(device));
      expect(page).not.toContain(device.cookies.get('SESSION')!);
      expect(page).not.toContain(sessionIdIn(device).slice(0, 12));
    }
    expect(new Set(sessions.map((s) => s.handle)).size).toBe(2);
    // The same list from the other device marks the other row as current.
    expect((await listOf(laptop)).map((s) => s.current)).toEqual([false, true]);
  });

  it('revoke(): the revoked device is signed out on every instance, its socket on the other instance told and closed at once', async () => {
    const laptop = await signIn(a.url, 'lin');
    const phone = await signIn(a.url, 'lin', PHONE);
    const phoneId = sessionIdIn(phone);
    const socket = await connectSocket(b.url, { cookie: `SESSION=${phone.cookies.get('SESSION')}` });
    expect(await socket.emitWithAck('whoami')).toEqual({ user: 'lin' });
    const deleted = firstValueFrom(
      // Not its 'created', which pub/sub may deliver this late (seen on the Cluster run).
      a.app.get(SessionEvents).pipe(filter((event) => event.sessionId === phoneId && event.type !== 'created'), take(1), timeout(5000)),
    );

    const phoneRow = (await listOf(laptop)).find((s) => !s.current)!;
    const destroyed = nextEvent(socket, 'session:destroyed', 5000);
    const disconnected = nextEvent<string>(socket, 'disconnect', 5000);
    const revokedAt = Date.now();
    const response = await laptop.post(`/sessions/${phoneRow.handle}/revoke`);
    expect(response.status).toBe(200);

    expect(await destroyed).toEqual({ reason: 'deleted' });
    expect(await disconnected).toBe('io server disconnect');
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(await deleted).toEqual({ type: 'deleted', sessionId: phoneId, principalName: 'lin' });
    expect((await phone.get('/me')).status).toBe(401);
    expect((await laptop.get('/me')).status).toBe(200);
    // Nothing of it is left in the principal index, nor in the deadline index.
    expect(await redis.smembers(`${namespace}:index:org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME:lin`)).toEqual([
      sessionIdIn(laptop),
    ]);
    for (const key of (await keysMatching(redis, `${namespace}:expirations:*`)).filter((k) => !k.endsWith(':principals'))) {
      expect(await redis.zscore(key, phoneId)).toBeNull();
    }
    // A handle revoked once names nothing any more.
    expect((await laptop.post(`/sessions/${phoneRow.handle}/revoke`)).status).toBe(404);
  });

  it('drops a session deleted by another writer from the list and from the index', async () => {
    const kept = await signIn(a.url, 'una');
    const deleted = await signIn(b.url, 'una');
    await redis.del(`${namespace}:sessions:{${sessionIdIn(deleted)}}`); // e.g. an operator's redis-cli
    const sessions = await listOf(kept);
    expect(sessions).toHaveLength(1);
    expect(sessions[0].current).toBe(true);
    expect(await redis.smembers(`${namespace}:index:org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME:una`)).toEqual([
      sessionIdIn(kept),
    ]);
  });

  it('never ends a session of another user, whatever handle is given', async () => {
    const mallory = await signIn(a.url, 'mallory');
    const victim = await signIn(b.url, 'victim');
    const victimHandle = (await listOf(victim))[0].handle;
    const registry = a.app.get(SessionRegistry);

    expect((await mallory.post(`/sessions/${victimHandle}/revoke`)).status).toBe(404);
    expect(await registry.revoke('mallory', victimHandle)).toBe(false);
    for (const bad of ['', 'x', victimHandle.slice(1), `${victimHandle}A`, '../../etc', 'a'.repeat(10_000), sessionIdIn(victim), '*', '{x}']) {
      expect(await registry.revoke('victim', bad)).toBe(false);
    }
    expect((await victim.get('/me')).status).toBe(200);
  });

  it('revokeOthers() keeps the current session; revokeAll() ends all; bad principals have no sessions', async () => {
    const devices = [await signIn(a.url, 'sam'), await signIn(b.url, 'sam'), await signIn(a.url, 'sam')];
    const response = await devices[1].post('/sessions/revoke-others');
    expect(response.body).toEqual({ revoked: 2 });
    expect((await Promise.all(devices.map((d) => d.get('/me')))).map((r) => r.status)).toEqual([401, 200, 401]);

    const registry = b.app.get(SessionRegistry);
    await signIn(a.url, 'sam');
    expect(await registry.revokeAll('sam')).toBe(2);
    expect(await registry.getSessions('sam')).toEqual([]);
    for (const bad of ['', 'x'.repeat(1025), undefined, null, 42]) {
      expect(await registry.getSessions(bad as never)).toEqual([]);
      expect(await registry.revoke(bad as never, 'A'.repeat(22))).toBe(false);
      expect(await registry.revokeAll(bad as never)).toBe(0);
    }
  });

  it('records a bounded, printable User-Agent, and the address as Express reports it', async () => {
    const device = await signIn(a.url, 'ua', `Evil\u00e9Agent ${'x'.repeat(5000)}`);
    const [info] = await listOf(device);
    expect(info.userAgent).toBe(`EvilAgent ${'x'.repeat(54)}`);
    // No User-Agent at all: none recorded.
    const bare = new CookieClient(a.url);
    await bare.post('/login', { user: 'no-agent' }, { 'user-agent': '' });
    expect((await listOf(bare))[0].userAgent).toBeUndefined();
    expect(info.ip).toBe('127.0.0.1');

    // Behind a proxy the app trusts, the client's address is the forwarded one.
    const proxied = await startAccountApp({ redis: sessionRedisOption(), redisNamespace: namespace }, { trustProxy: true });
    try {
      const behindProxy = new CookieClient(proxied.url);
      await behindProxy.post('/login', { user: 'proxied' }, { 'x-forwarded-for': '203.0.113.7' });
      expect((await listOf(behindProxy))[0].ip).toBe('203.0.113.7');
      // Without that trust, a forwarded header is ignored.
      const direct = new CookieClient(a.url);
      await direct.post('/login', { user: 'direct' }, { 'x-forwarded-for': '203.0.113.7' });
      expect((await listOf(direct))[0].ip).toBe('127.0.0.1');
    } finally {
      await proxied.app.close();
    }
  });

  it.each([false, true])('on Fastify too, the address is request.ip (trustProxy %s)', async (trustProxy) => {
    const fastify = await startAccountApp({ redis: sessionRedisOption(), redisNamespace: namespace }, { platform: 'fastify', trustProxy });
    try {
      const device = await signIn(fastify.url, `fastify-${trustProxy}`, PHONE);
      await device.post('/login', { user: `fastify-${trustProxy}` }, { 'x-forwarded-for': '198.51.100.9' });
      const [info] = await listOf(device);
      expect(info).toMatchObject({ ip: trustProxy ? '198.51.100.9' : '127.0.0.1', userAgent: '(iPhone; CPU iPhone OS 18_1 like Mac OS X) Version/18.1 Mobile/1', current: true });
    } finally {
      await fastify.app.close();
    }
  });
});
