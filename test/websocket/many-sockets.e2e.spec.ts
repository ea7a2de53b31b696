import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SessionRepository, WebSocketRegistryListener } from 'nestjs-redis-session';
import type { Socket } from 'socket.io-client';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { connectSocket, nextEvent, sessionCookie } from './socket-client.js';
import { closeAll, sleep, startTwoInstances, type Instance } from './two-instances.js';

/** The registry forgets every socket once it is gone, however it went: no leak after 1,000 of them. */
describe('1,000 sockets connect and disconnect', () => {
  const SESSIONS = 50;
  const BATCH = 100;
  let a: Instance;
  let b: Instance;
  let sessionIds: string[];

  beforeAll(async () => {
    ({ a, b } = await startTwoInstances({ redis: sessionRedisOption(), redisNamespace: uniqueNamespace('ws-many'), maxInactiveIntervalInSeconds: 120 }));
    const repository = a.app.get(SessionRepository);
    sessionIds = await Promise.all(
      Array.from({ length: SESSIONS }, async (_, i) => {
        const session = repository.createSession();
        session.set('userId', `user-${i}`);
        await repository.save(session);
        return session.id;
      }),
    );
  });

  afterAll(() => closeAll(a, b));

  const registries = () => [a, b].map(({ app }) => app.get(WebSocketRegistryListener));

  /** Socket i of a batch: session i % SESSIONS, the first half on A, the second on B (each session has sockets on both). */
  function connectBatch(): Promise<Socket[]> {
    return Promise.all(
      Array.from({ length: BATCH }, (_, i) => connectSocket((i < BATCH / 2 ? a : b).url, { cookie: sessionCookie(sessionIds[i % SESSIONS]) })),
    );
  }

  async function registriesEmptyWithin(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (registries().some((registry) => registry.sessionCount > 0) && Date.now() < deadline) await sleep(20);
    for (const registry of registries()) {
      expect(registry.sessionCount).toBe(0);
      for (const id of sessionIds) expect(registry.socketsOf(id).size).toBe(0);
    }
  }

  it('800 sockets in batches of 100, closed by the client or dropped without a close frame: the registries end empty', async () => {
    for (let batch = 0; batch < 8; batch++) {
      const sockets = await connectBatch();
      for (const registry of registries()) {
        expect(registry.sessionCount).toBe(SESSIONS);
        expect(registry.socketsOf(sessionIds[0]).size).toBe(1);
      }
      sockets.forEach((socket, i) => {
        if (i % 2 === 0) socket.close();
        else (socket.io.engine.transport as unknown as { ws: { terminate(): void } }).ws.terminate(); // a network drop
      });
    }
    await registriesEmptyWithin(5000);
  });

  it('200 more sockets, closed by the server when their sessions are deleted: the registries end empty', async () => {
    const sockets = [...(await connectBatch()), ...(await connectBatch())];
    for (const registry of registries()) expect(registry.socketsOf(sessionIds[1]).size).toBe(2);
    const closed = sockets.map((socket) => nextEvent(socket, 'disconnect', 10_000));
    const repository = b.app.get(SessionRepository);
    await Promise.all(sessionIds.map((id) => repository.deleteById(id)));
    expect(new Set(await Promise.all(closed))).toEqual(new Set(['io server disconnect']));
    await registriesEmptyWithin(5000);
  });
});
