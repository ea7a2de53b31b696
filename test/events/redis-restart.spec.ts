import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { newClient, uniqueNamespace } from '../harness/redis.js';
import { eventually } from '../harness/eventually.js';
import { startInstance, storeSession, type Instance } from './instance.js';

describe('events after a Redis restart', () => {
  const namespace = uniqueNamespace('restart');
  let server: RedisServer;
  let a: Instance;
  let b: Instance;
  let raw: Redis;

  beforeAll(async () => {
    // A private server that starts without keyspace notifications: the module must turn them on, again after the restart.
    server = await startRedisServer();
    a = await startInstance({ redis: server.url, redisNamespace: namespace, commandTimeoutMs: 500 });
    b = await startInstance({ redis: server.url, redisNamespace: namespace, commandTimeoutMs: 500 });
    raw = newClient(server.url);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    raw?.disconnect();
    await server?.stop();
  });

  it('delivers expiry and deletion events for sessions created after the restart', async () => {
    await server.restart();
    // Restart lost the data and the server's notification setting; the module re-applies it once reconnected.
    await eventually(async () => {
      const [, flags] = (await raw.config('GET', 'notify-keyspace-events')) as string[];
      if (!/E/.test(flags) || !/g/.test(flags) || !/x/.test(flags)) throw new Error(`notify-keyspace-events is "${flags}"`);
    }, 5000);

    const { session } = await eventually(() => storeSession(a.repository, { a: 1 }, 1), 5000);
    await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 5000)));

    // Only keyspace notifications (re-subscribed after the reconnect) can tell of an external DEL.
    const { session: deleted } = await storeSession(a.repository);
    await raw.del(`${namespace}:sessions:{${deleted.id}}`);
    await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === deleted.id && e.type === 'deleted', 3000)));
    expect(a.count(session.id, 'expired')).toBe(1);
  });
});

describe('events when Redis is down as the module starts', () => {
  const namespace = uniqueNamespace('late');
  let server: RedisServer;
  let a: Instance;
  let raw: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    await server.stop();
  });

  afterAll(async () => {
    await a?.close();
    raw?.disconnect();
    await server?.stop();
  });

  it('starts anyway, and subscribes once Redis is up', async () => {
    a = await startInstance({ redis: server.url, redisNamespace: namespace, commandTimeoutMs: 500 });
    await server.restart(); // same port: now up
    raw = newClient(server.url);
    // Pub/sub does not replay what was published before a subscriber (re)connected: wait for it.
    await eventually(async () => {
      const [, subscribers] = (await raw.pubsub('NUMSUB', `${namespace}:event`)) as [string, number];
      if (subscribers < 1) throw new Error('not subscribed yet');
    }, 5000);
    const { session } = await eventually(() => storeSession(a.repository, { a: 1 }, 1), 5000);
    await a.waitFor((e) => e.sessionId === session.id && e.type === 'created', 3000);
    await a.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 5000);
    const { session: deleted } = await storeSession(a.repository);
    await raw.del(`${namespace}:sessions:{${deleted.id}}`);
    await a.waitFor((e) => e.sessionId === deleted.id && e.type === 'deleted', 3000);
  });
});
