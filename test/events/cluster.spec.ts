import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import { PRINCIPAL_NAME_INDEX_NAME } from 'nestjs-redis-session';
import { startRedisCluster, type RedisCluster } from '../harness/redis-cluster.js';
import { uniqueNamespace } from '../harness/redis.js';
import { sleep, startInstance, storeSession, type Instance } from './instance.js';

/** Keyspace notifications are node-local: every master must be listened to. */
describe('session events on a Redis Cluster', () => {
  const namespace = uniqueNamespace('cluster');
  let cluster: RedisCluster;
  const clients: Cluster[] = [];
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    // The user's own clients (the module never closes them), handed over before they are connected,
    // knowing one seed node only (as behind a configuration endpoint): the masters are discovered.
    for (let i = 0; i < 3; i++) clients.push(new Cluster([cluster.nodes[i]]));
    a = await startInstance({ redis: clients[0], redisNamespace: namespace });
    b = await startInstance({ redis: clients[1], redisNamespace: namespace });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    await cluster?.stop();
  });

  it('reports created, deleted, external DELs and expiry of sessions on every master, once each', async () => {
    const stored = await Promise.all(Array.from({ length: 30 }, () => storeSession(a.repository, { [PRINCIPAL_NAME_INDEX_NAME]: 'gina' }, 2)));
    const sessions = stored.map(({ session }) => session);
    await Promise.all(sessions.map((session) => b.waitFor((e) => e.sessionId === session.id && e.type === 'created', 3000)));

    // Three sessions on each master are deleted behind the library's back.
    const keyOf = (id: string) => `${namespace}:sessions:{${id}}`;
    const ranges = await clients[2].cluster('SLOTS');
    const masterOf = async (id: string) => {
      const slot = (await clients[2].cluster('KEYSLOT', keyOf(id))) as number;
      return ranges.find(([from, to]) => slot >= from && slot <= to)![2][1];
    };
    const masters = await Promise.all(sessions.map((session) => masterOf(session.id)));
    const toDrop = [...new Set(masters)].flatMap((port) => sessions.filter((_, i) => masters[i] === port).slice(0, 3));
    expect(toDrop).toHaveLength(9);
    const [toDelete, ...toExpire] = sessions.filter((session) => !toDrop.includes(session));

    await a.repository.deleteById(toDelete.id);
    await Promise.all(toDrop.map((session) => clients[2].del(keyOf(session.id))));
    for (const { id } of [toDelete, ...toDrop]) {
      await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === id && e.type === 'deleted', 1500)));
    }
    for (const session of toExpire) {
      const events = await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 6000)));
      expect(events.map((event) => event.principalName)).toEqual(['gina', 'gina']);
    }
    await sleep(1000);
    for (const session of toExpire) expect([a.count(session.id, 'expired'), b.count(session.id, 'expired')]).toEqual([1, 1]);
    expect(await b.repository.findByPrincipalName('gina')).toEqual([]);
  });

  it('a changed id (copied to a new slot, the old key deleted) is no deletion', async () => {
    const { session } = await storeSession(a.repository, { [PRINCIPAL_NAME_INDEX_NAME]: 'hugo' });
    const oldId = session.id;
    const loaded = (await b.repository.findById(oldId))!;
    const newId = loaded.changeId();
    expect(await b.repository.save(loaded)).toBe(true);
    await sleep(1500); // past the listener's wait for an announcement
    expect([...a.seen, ...b.seen].filter((e) => e.type !== 'created' && (e.sessionId === oldId || e.sessionId === newId))).toEqual([]);
    expect((await a.repository.findByPrincipalName('hugo')).map((s) => s.id)).toEqual([newId]);
  });
});
