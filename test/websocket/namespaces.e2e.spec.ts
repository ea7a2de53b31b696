import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SessionRepository, WebSocketRegistryListener } from 'nestjs-redis-session';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { connectSocket, nextEvent } from './socket-client.js';
import { closeAll, sameUserOn, signIn, sleep, startTwoInstances, type Instance } from './two-instances.js';

/**
 * The fixture has two gateways on the root namespace and two on `/other`. The session handling
 * must be installed once per namespace and socket: one session load per handshake, at most one
 * touch per due event, and `/other` as protected as the root.
 */
describe('Several gateways and namespaces on one server', () => {
  const TOUCH_INTERVAL_MS = 1000;
  let a: Instance;
  let b: Instance;
  const loads = new Map<string, number>();

  beforeAll(async () => {
    ({ a, b } = await startTwoInstances({
      redis: sessionRedisOption(),
      redisNamespace: uniqueNamespace('ws-nsp'),
      websocket: { touchIntervalSeconds: TOUCH_INTERVAL_MS / 1000 },
    }));
    // Counts every session load instance A makes (handshakes, touches, @Session()): the
    // repository's loads, its throttled touches (one script each), and the socket session cache's
    // loads (the first @Session() of a socket's session).
    const repository = a.app.get(SessionRepository);
    countCallsById(repository, 'findById');
    countCallsById(repository, 'touchById');
    countCallsById(repository.changeFeed as unknown as Record<string, unknown>, 'loadWatched');
  });

  afterAll(() => closeAll(a, b));

  /** Wraps `target[method]` (called with a session id first) so that each call counts under its id. */
  function countCallsById(target: object, method: string): void {
    const holder = target as Record<string, (id: string, ...rest: unknown[]) => unknown>;
    const original = holder[method].bind(target);
    holder[method] = (id: string, ...rest: unknown[]) => {
      loads.set(id, (loads.get(id) ?? 0) + 1);
      return original(id, ...rest);
    };
  }

  /** Session loads on A for this id while `action` runs. */
  async function loadsDuring(id: string, action: () => Promise<unknown>): Promise<number> {
    const before = loads.get(id) ?? 0;
    await action();
    return (loads.get(id) ?? 0) - before;
  }

  for (const namespace of ['', '/other']) {
    const name = namespace || '/';
    it(`${name}: one session load per handshake, none for an event between touches, one for a due event, one for @Session()`, async () => {
      const user = await signIn(b.url);
      let socket!: Awaited<ReturnType<typeof connectSocket>>;
      expect(await loadsDuring(user.sessionId, async () => (socket = await connectSocket(a.url, { cookie: user.cookie, namespace })))).toBe(1);
      expect(await loadsDuring(user.sessionId, () => socket.emitWithAck('echo', 1))).toBe(0);
      await sleep(TOUCH_INTERVAL_MS + 100);
      expect(await loadsDuring(user.sessionId, () => socket.emitWithAck('echo', 2))).toBe(1);
      expect(await loadsDuring(user.sessionId, () => socket.emitWithAck('echo', 3))).toBe(0);
      expect(await loadsDuring(user.sessionId, async () => expect(await socket.emitWithAck('whoami')).toEqual({ sessionId: user.sessionId, userId: 'u1' }))).toBe(1);
      // Then served from this instance's copy while nothing changed.
      expect(await loadsDuring(user.sessionId, async () => expect(await socket.emitWithAck('whoami')).toEqual({ sessionId: user.sessionId, userId: 'u1' }))).toBe(0);
      socket.close();
    });
  }

  it('/other is protected like the root: refused without a session or from a foreign origin', async () => {
    const user = await signIn(a.url);
    await expect(connectSocket(a.url, { namespace: '/other' })).rejects.toMatchObject({ data: { code: 'SESSION_REQUIRED' } });
    await expect(connectSocket(a.url, { namespace: '/other', cookie: user.cookie, origin: 'https://evil.example' })).rejects.toMatchObject({
      data: { code: 'ORIGIN_NOT_ALLOWED' },
    });
  });

  it('sockets of one session in both namespaces are registered once each and both closed at logout', async () => {
    const user = await signIn(a.url);
    const root = await connectSocket(a.url, { cookie: user.cookie });
    const other = await connectSocket(a.url, { cookie: user.cookie, namespace: '/other' });
    expect(a.app.get(WebSocketRegistryListener).socketsOf(user.sessionId).size).toBe(2);
    const destroyed = [root, other].map((socket) => nextEvent(socket, 'session:destroyed'));
    await sameUserOn(b.url, user.http).post('/logout');
    expect(await Promise.all(destroyed)).toEqual([{ reason: 'deleted' }, { reason: 'deleted' }]);
  });
});
