import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { connectSocket, firstOf, nextEvent } from './socket-client.js';
import { closeAll, signIn, sleep, startTwoInstances, type Instance } from './two-instances.js';

/**
 * A session that ends without any instance hearing of it (its hash deleted behind the library's
 * back, on a Redis without keyspace notifications): the next event that finds out is refused with
 * an `exception` and its socket closed, instead of being served under a dead session.
 */
describe('Events on a socket whose session ended unannounced', () => {
  const TOUCH_INTERVAL_MS = 1000;
  const namespace = uniqueNamespace('ws-ended');
  let server: RedisServer;
  let redis: Redis;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    server = await startRedisServer(); // no notify-keyspace-events: an external DEL goes unheard
    redis = new Redis(server.url);
    ({ a, b } = await startTwoInstances({
      redis: server.url,
      redisNamespace: namespace,
      maxInactiveIntervalInSeconds: 60,
      configureKeyspaceNotifications: false,
      websocket: { touchIntervalSeconds: TOUCH_INTERVAL_MS / 1000 },
    }));
  });

  afterAll(async () => {
    await closeAll(a, b);
    redis?.disconnect();
    await server?.stop();
  });

  /** Signs in, opens a socket on each instance, then deletes the session's hash directly. */
  async function socketsOfAnUnannouncedEnd(): Promise<Socket[]> {
    const user = await signIn(a.url);
    const sockets = [await connectSocket(a.url, { cookie: user.cookie }), await connectSocket(b.url, { cookie: user.cookie })];
    expect(await redis.del(`${namespace}:sessions:{${user.sessionId}}`)).toBe(1);
    // Nobody was told: the sockets stay open.
    expect(await firstOf(sockets[0], ['session:destroyed', 'disconnect'], 300)).toBe('nothing');
    return sockets;
  }

  async function expectRefusedAndClosed(socket: Socket, event: string, payload: unknown): Promise<void> {
    const exception = nextEvent(socket, 'exception');
    const disconnected = nextEvent(socket, 'disconnect');
    const answered = socket.timeout(1500).emitWithAck(event, payload).then(
      (answer) => ({ answer }),
      () => 'no answer',
    );
    expect(await exception).toMatchObject({ status: 'error', message: expect.stringMatching(/session has ended/) });
    expect(await disconnected).toBe('io server disconnect');
    expect(await answered).toBe('no answer'); // the handler never ran
  }

  it('an event once the touch is due (a handler that never asks for the session) is refused, on each instance', async () => {
    const [onA, onB] = await socketsOfAnUnannouncedEnd();
    await sleep(TOUCH_INTERVAL_MS + 100);
    await expectRefusedAndClosed(onA, 'echo', 'hello');
    await expectRefusedAndClosed(onB, 'echo', 'hello');
  });

  it('an event whose handler asks for the session is refused at once, even between touches', async () => {
    const [onA, onB] = await socketsOfAnUnannouncedEnd();
    await expectRefusedAndClosed(onA, 'read', 'userId');
    await expectRefusedAndClosed(onB, 'write', { name: 'revived', value: true });
  });
});
