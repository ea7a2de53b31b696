import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom, filter, take, timeout } from 'rxjs';
import { InMemorySessionRepository, SessionEvents, SessionOptionsError } from 'nestjs-redis-session';
import { CookieClient } from '../http/client.js';
import { sessionIdOf } from '../http/fixture-app.js';
import { keysMatching, sessionRedisClient, sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { connectSocket, nextEvent } from '../websocket/socket-client.js';
import { startAccountApp, type AccountInstance } from './account-fixture-app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** maxSessionLifetimeSeconds: a session ends at creation + lifetime however active it is, on HTTP and on its sockets. */
describe('Absolute session lifetime', () => {
  const LIFETIME_S = 3;
  const namespace = uniqueNamespace('lifetime');
  let a: AccountInstance;
  let b: AccountInstance;

  beforeAll(async () => {
    const options = {
      redis: sessionRedisOption(),
      redisNamespace: namespace,
      maxInactiveIntervalInSeconds: 600,
      maxSessionLifetimeSeconds: LIFETIME_S,
      touchIntervalSeconds: 0,
      sweepIntervalMs: 100,
    };
    [a, b] = await Promise.all([startAccountApp(options), startAccountApp(options)]);
  });

  afterAll(() => Promise.all([a?.app.close(), b?.app.close()]));

  it('ends an active session at creation + lifetime (a login keeps the creation time), with an expired event and its sockets closed', async () => {
    const device = new CookieClient(a.url);
    // A first sign-in, then another on the same session: the id changes, the creation time does not.
    const first = await device.post('/login', { user: 'early' });
    const createdAt = first.body.creationTime as number;
    await sleep(500);
    const login = await device.post('/login', { user: 'tess' });
    expect(login.body.creationTime).toBe(createdAt);
    const me = await device.get('/me');
    expect(me.body).toMatchObject({ user: 'tess', creationTime: createdAt, expiresAt: createdAt + LIFETIME_S * 1000 });

    const socket = await connectSocket(b.url, { cookie: `SESSION=${device.cookies.get('SESSION')}` });
    const destroyed = nextEvent(socket, 'session:destroyed', 10_000).then((payload) => ({ payload, at: Date.now() }));
    const disconnected = nextEvent<string>(socket, 'disconnect', 10_000);
    const expired = firstValueFrom(a.app.get(SessionEvents).pipe(filter((event) => event.type === 'expired'), take(1), timeout(10_000)));

    // Busy until the end: every 200 ms a request, and socket traffic, each of which touches the session.
    const deadline = createdAt + LIFETIME_S * 1000;
    const statuses: { at: number; status: number }[] = [];
    while (Date.now() < deadline + 1500) {
      const response = await device.get('/me');
      statuses.push({ at: Date.now(), status: response.status });
      if (socket.connected) socket.emit('whoami');
      await sleep(200);
    }
    const { payload, at } = await destroyed;
    expect(payload).toEqual({ reason: 'expired' });
    expect(at).toBeGreaterThanOrEqual(deadline);
    expect(at).toBeLessThanOrEqual(deadline + 1500);
    expect(await disconnected).toBe('io server disconnect');
    expect((await expired).principalName).toBe('tess');
    // Served while it lived, refused once it ended (never after the deadline, never before it).
    expect(statuses.filter((s) => s.at < deadline - 100).every((s) => s.status === 200)).toBe(true);
    expect(statuses.filter((s) => s.at > deadline + 100).every((s) => s.status === 401)).toBe(true);
    expect(statuses.some((s) => s.at > deadline + 100)).toBe(true);
    // Nothing of it is left: no key, no principal index entry, no deadline index entry.
    const redis = sessionRedisClient();
    try {
      const id = sessionIdOf(login.headers.getSetCookie()[0].split(';')[0].slice('SESSION='.length));
      expect(await keysMatching(redis, `${namespace}:sessions:*`)).toEqual([]);
      expect(await keysMatching(redis, `${namespace}:index:*`)).toEqual([]);
      for (const key of await keysMatching(redis, `${namespace}:expirations:*`)) {
        expect(key.endsWith(':principals') ? await redis.hget(key, id) : await redis.zscore(key, id)).toBeNull();
      }
    } finally {
      await redis.quit();
    }
  }, 20_000);

  it('refuses a lifetime that is not a whole number of seconds from 1 to 2^31-1, at start-up, naming the option', async () => {
    for (const lifetime of [0, -5, 1.5, '3600', 2 ** 31, Number.NaN, null]) {
      const started = startAccountApp({ store: 'memory', maxSessionLifetimeSeconds: lifetime as never });
      await expect(started).rejects.toThrow(SessionOptionsError);
      await expect(started).rejects.toThrow('maxSessionLifetimeSeconds');
      expect(() => new InMemorySessionRepository({ maxSessionLifetimeSeconds: lifetime as never })).toThrow(SessionOptionsError);
    }
  });
});
