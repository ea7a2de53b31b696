import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PRINCIPAL_NAME_INDEX_NAME, SessionOptionsError, SessionRegistry, type SessionModuleOptions } from 'nestjs-redis-session';
import { CookieClient } from '../http/client.js';
import { keysMatching, sessionRedisClient, sessionRedisOption, uniqueNamespace, type SharedRedisClient } from '../harness/redis.js';
import { connectSocket, nextEvent } from '../websocket/socket-client.js';
import { startAccountApp, type AccountInstance } from './account-fixture-app.js';

/** The sessions stored in Redis under `namespace` whose principal is `user`, counted from the hashes themselves. */
async function storedSessionsOf(redis: SharedRedisClient, namespace: string, user: string): Promise<number> {
  const keys = await keysMatching(redis, `${namespace}:sessions:*`);
  const principals = await Promise.all(keys.map((key) => redis.hget(key, `sessionAttr:${PRINCIPAL_NAME_INDEX_NAME}`)));
  return principals.filter((principal) => principal === JSON.stringify(user)).length;
}

async function twoInstances(namespace: string, maximumSessions: SessionModuleOptions['maximumSessions']): Promise<[AccountInstance, AccountInstance]> {
  // Every load touches (touch interval 0): "least recently used" is as precise as lastAccessedTime, which lags by less than the touch interval.
  const options = { redis: sessionRedisOption(), redisNamespace: namespace, maximumSessions, sweepIntervalMs: 100, touchIntervalSeconds: 0 };
  return Promise.all([startAccountApp(options), startAccountApp(options)]);
}

describe('maximumSessions: a per-user limit, checked at login', () => {
  let redis: SharedRedisClient;
  const running: AccountInstance[] = [];

  beforeAll(() => {
    redis = sessionRedisClient();
  });

  afterAll(async () => {
    await Promise.all(running.map((instance) => instance.app.close()));
    await redis.quit();
  });

  describe("whenExceeded: 'expire-oldest'", () => {
    const namespace = uniqueNamespace('limit-oldest');
    let a: AccountInstance;
    let b: AccountInstance;

    beforeAll(async () => {
      [a, b] = await twoInstances(namespace, { max: 3, whenExceeded: 'expire-oldest' });
      running.push(a, b);
    });

    it('a fourth login ends the least recently used session, and closes its socket on the other instance', async () => {
      const login = async (url: string) => {
        const device = new CookieClient(url);
        expect((await device.post('/login', { user: 'olga' })).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 20)); // distinct access times
        return device;
      };
      const first = await login(a.url);
      const second = await login(b.url);
      // A socket is use too: its handshake touches the session, so it is opened before the others are used.
      const socket = await connectSocket(b.url, { cookie: `SESSION=${second.cookies.get('SESSION')}` });
      const third = await login(a.url);
      expect((await first.get('/me')).status).toBe(200); // the first is used again: the second is now the least recently used
      const destroyed = nextEvent(socket, 'session:destroyed', 5000);

      const fourth = await login(b.url);
      expect(await destroyed).toEqual({ reason: 'deleted' });
      expect((await Promise.all([first, second, third, fourth].map((device) => device.get('/me')))).map((r) => r.status)).toEqual([200, 401, 200, 200]);
      expect(await a.app.get(SessionRegistry).getSessions('olga')).toHaveLength(3);
      socket.close();
    });

    it('20 parallel logins of one user on two instances leave exactly 3 sessions', async () => {
      const logins = Array.from({ length: 20 }, (_, i) => new CookieClient(i % 2 === 0 ? a.url : b.url).post('/login', { user: 'pat' }));
      expect((await Promise.all(logins)).map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(await storedSessionsOf(redis, namespace, 'pat')).toBe(3);
      expect(await b.app.get(SessionRegistry).getSessions('pat')).toHaveLength(3);
    });
  });

  describe("whenExceeded: 'reject'", () => {
    const namespace = uniqueNamespace('limit-reject');
    let a: AccountInstance;
    let b: AccountInstance;

    beforeAll(async () => {
      [a, b] = await twoInstances(namespace, { max: 3, whenExceeded: 'reject' });
      running.push(a, b);
    });

    it('refuses a fourth login with 409 and a clear body; nothing of it is stored, the other sessions are untouched', async () => {
      const devices = [new CookieClient(a.url), new CookieClient(b.url), new CookieClient(a.url)];
      for (const device of devices) expect((await device.post('/login', { user: 'rita' })).status).toBe(200);

      // A visitor with a cart signs in as the same user: refused, and the cart session is still theirs.
      const visitor = new CookieClient(b.url);
      await visitor.post('/cart', { item: 'book' });
      const cookieBefore = visitor.cookies.get('SESSION');
      const refused = await visitor.post('/login', { user: 'rita' });
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({ statusCode: 409, error: 'Conflict', message: expect.stringContaining('most sessions allowed (3)') });
      expect(visitor.lastSetCookies).toEqual([]);
      expect(visitor.cookies.get('SESSION')).toBe(cookieBefore);
      expect((await visitor.get('/cart')).body).toEqual({ cart: ['book'] });
      expect((await visitor.get('/me')).status).toBe(401);

      // A login from a fresh client: refused, no cookie, nothing stored.
      const fresh = new CookieClient(a.url);
      expect((await fresh.post('/login', { user: 'rita' })).status).toBe(409);
      expect(fresh.lastSetCookies).toEqual([]);
      expect(await storedSessionsOf(redis, namespace, 'rita')).toBe(3);
      expect((await Promise.all(devices.map((device) => device.get('/me')))).map((r) => r.status)).toEqual([200, 200, 200]);

      // Signing out on one device makes room again.
      await devices[0].post('/sessions/revoke-others'); // keeps devices[0], ends two
      expect((await fresh.post('/login', { user: 'rita' })).status).toBe(200);
    });

    it('20 parallel logins of one user on two instances: exactly 3 succeed, 17 are refused, 3 sessions are stored', async () => {
      const logins = Array.from({ length: 20 }, (_, i) => new CookieClient(i % 2 === 0 ? a.url : b.url).post('/login', { user: 'quinn' }));
      const statuses = (await Promise.all(logins)).map((r) => r.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(3);
      expect(statuses.filter((status) => status === 409)).toHaveLength(17);
      expect(await storedSessionsOf(redis, namespace, 'quinn')).toBe(3);
    });
  });

  it('refuses a bad limit at start-up, naming the option', async () => {
    for (const [maximumSessions, option] of [
      [{ max: 0, whenExceeded: 'reject' }, 'maximumSessions.max'],
      [{ max: 2.5, whenExceeded: 'reject' }, 'maximumSessions.max'],
      [{ max: 2, whenExceeded: 'expire' }, 'maximumSessions.whenExceeded'],
      [{ max: 2, whenExceeded: 'reject', maximum: 3 }, 'maximumSessions.maximum'],
      [3, 'maximumSessions'],
    ] as const) {
      const started = startAccountApp({ store: 'memory', maximumSessions: maximumSessions as never });
      await expect(started).rejects.toThrow(SessionOptionsError);
      await expect(started).rejects.toThrow(option);
    }
  });
});
