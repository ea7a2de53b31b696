import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { PRINCIPAL_NAME_INDEX_NAME, SaveMode, type HttpSession } from 'nestjs-redis-session';
import { RedisSessionRepository } from '../../libs/session/src/redis/redis-session-repository.js';
import { ExpirySweeper } from '../../libs/session/src/redis/expiry-sweeper.js';
import { RedisKeys } from '../../libs/session/src/redis/redis-keys.js';
import { CommandLog } from '../harness/command-log.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { serverWork } from './support/redis-stats.js';
import { pipeliningClient, settingsOf, sleep, type RepositoryOptions } from './support/repositories.js';

/** Redis-only checks: the stored layout, TTLs, index keys, round trips and the namespace. */

const INTERVAL = 600;
const clients: Redis[] = [];
const client = (url?: string, db?: number) => {
  const made = pipeliningClient(url, db);
  clients.push(made);
  return made;
};

afterAll(async () => {
  await Promise.all(clients.map((made) => made.quit()));
});

function repository(redis: Redis, options: RepositoryOptions & { namespace?: string } = {}) {
  const keys = new RedisKeys(options.namespace ?? uniqueNamespace('redis-repo'), 1);
  return { repo: new RedisSessionRepository(redis, keys, settingsOf(options), options.interval ?? INTERVAL), keys };
}

async function stored(repo: RedisSessionRepository, attributes: Record<string, unknown>, interval?: number): Promise<HttpSession> {
  const session = repo.createSession();
  if (interval !== undefined) session.maxInactiveIntervalInSeconds = interval;
  for (const [name, value] of Object.entries(attributes)) session.set(name, value);
  expect(await repo.save(session)).toBe(true);
  return session;
}

describe('RedisSessionRepository on the shared server', () => {
  let inspector: Redis;
  let redis: Redis;

  beforeAll(() => {
    redis = client();
    inspector = client();
  });

  describe('hash layout', () => {
    it("stores one hash per session with Spring's field names and JSON values", async () => {
      const { repo, keys } = repository(redis);
      const session = await stored(repo, { user: { name: 'ada' }, n: 1 });
      expect(keys.session(session.id)).toBe(`${keys.namespace}:sessions:{${session.id}}`);
      expect(await inspector.hgetall(keys.session(session.id))).toEqual({
        creationTime: String(session.creationTime),
        lastAccessedTime: String(session.lastAccessedTime),
        maxInactiveInterval: String(INTERVAL),
        'sessionAttr:user': '{"name":"ada"}',
        'sessionAttr:n': '1',
      });
    });

    it('writes only changed fields on save (a field changed elsewhere meanwhile is kept)', async () => {
      const { repo, keys } = repository(redis);
      const session = await stored(repo, { a: 1, b: 2 });
      const key = keys.session(session.id);
      const loaded = (await repo.findById(session.id))!;
      const afterLoad = await inspector.hgetall(key);
      // Written behind the repository's back: a save that rewrote the hash would undo these.
      await inspector.hset(key, 'sessionAttr:b', '"elsewhere"', 'creationTime', '1000', 'sessionAttr:extra', '"kept"');
      loaded.set('a', 10);
      expect(await repo.save(loaded)).toBe(true);
      expect(await inspector.hgetall(key)).toEqual({
        ...afterLoad,
        creationTime: '1000',
        'sessionAttr:a': '10',
        'sessionAttr:b': '"elsewhere"',
        'sessionAttr:extra': '"kept"',
      });
    });

    it('ALWAYS rewrites every attribute the session holds', async () => {
      const { repo, keys } = repository(redis, { saveMode: SaveMode.ALWAYS });
      const session = await stored(repo, { a: 1, b: 2 });
      const key = keys.session(session.id);
      const loaded = (await repo.findById(session.id))!;
      await inspector.hset(key, 'sessionAttr:b', '"elsewhere"');
      expect(await repo.save(loaded)).toBe(true);
      expect(await inspector.hget(key, 'sessionAttr:b')).toBe('2');
    });

    it('deletes the field of an attribute set to undefined', async () => {
      const { repo, keys } = repository(redis);
      const session = await stored(repo, { a: 1, b: 2 });
      const loaded = (await repo.findById(session.id))!;
      loaded.set('a', undefined);
      expect(await repo.save(loaded)).toBe(true);
      expect(await inspector.hexists(keys.session(session.id), 'sessionAttr:a')).toBe(0);
      expect(await inspector.hget(keys.session(session.id), 'sessionAttr:b')).toBe('2');
    });

    it('renames the hash on changeId, keeping fields and TTL, and leaves no key under the old id', async () => {
      const { repo, keys } = repository(redis);
      const session = await stored(repo, { a: 1 });
      const before = await inspector.hgetall(keys.session(session.id));
      const loaded = (await repo.findById(session.id, { touch: false }))!;
      const newId = loaded.changeId();
      expect(await repo.save(loaded)).toBe(true);
      expect(await inspector.exists(keys.session(session.id))).toBe(0);
      expect(await inspector.hgetall(keys.session(newId))).toEqual(before);
      expect(await inspector.pttl(keys.session(newId))).toBeGreaterThan(INTERVAL * 1000 - 1000);
      expect(await inspector.zscore(keys.expirations(0), session.id)).toBeNull();
      expect(await inspector.zscore(keys.expirations(0), newId)).not.toBeNull();
    });

    it('treats a malformed hash as no session', async () => {
      const { repo, keys } = repository(redis);
      const id = repo.createSession().id;
      await inspector.hset(keys.session(id), 'sessionAttr:a', '1');
      expect(await repo.findById(id)).toBeUndefined();
      await inspector.hset(keys.session(id), 'creationTime', 'x', 'lastAccessedTime', '1', 'maxInactiveInterval', '60');
      expect(await repo.findById(id)).toBeUndefined();
    });
  });

  describe('TTL', () => {
    const near = (pttl: number, seconds: number) => {
      expect(pttl).toBeLessThanOrEqual(seconds * 1000);
      expect(pttl).toBeGreaterThan(seconds * 1000 - 250);
    };

    it('equals the interval after save, and again after a load', async () => {
      const { repo, keys } = repository(redis, { interval: 60 });
      const session = await stored(repo, { a: 1 });
      const key = keys.session(session.id);
      near(await inspector.pttl(key), 60);

      await sleep(400);
      expect(await inspector.pttl(key)).toBeLessThanOrEqual(60_000 - 400);
      expect(await repo.findById(session.id, { touch: false })).toBeDefined();
      expect(await inspector.pttl(key)).toBeLessThanOrEqual(60_000 - 400);
      const loaded = (await repo.findById(session.id))!;
      near(await inspector.pttl(key), 60);
      expect(await inspector.hget(key, 'lastAccessedTime')).toBe(String(loaded.lastAccessedTime));

      loaded.set('b', 2);
      expect(await repo.save(loaded)).toBe(true);
      near(await inspector.pttl(key), 60);

      loaded.maxInactiveIntervalInSeconds = 120;
      expect(await repo.save(loaded)).toBe(true);
      near(await inspector.pttl(key), 120);
      expect(await inspector.hget(key, 'maxInactiveInterval')).toBe('120');
    });

    it('a new interval counts from the last access, not from the save, in the key and the deadline index alike', async () => {
      // A socket message's save between throttled touches: the session was loaded without a touch.
      const { repo, keys } = repository(redis, { interval: 60 });
      const session = await stored(repo, { a: 1 });
      const key = keys.session(session.id);
      await sleep(600);
      const loaded = (await repo.findById(session.id, { touch: false }))!;
      expect(loaded.lastAccessedTime).toBe(session.lastAccessedTime);
      loaded.maxInactiveIntervalInSeconds = 2;
      expect(await repo.save(loaded)).toBe(true);
      const deadline = session.lastAccessedTime + 2000;
      // From the save it would be 2000: the key would outlive the deadline every reader (and TOUCH) counts.
      const asked = Date.now();
      expect(await inspector.pttl(key)).toBeLessThanOrEqual(deadline - asked + 5); // 5 ms: Redis' clock and ours
      expect(Number(await inspector.zscore(keys.expirations(0), session.id))).toBe(deadline);
      expect(await inspector.hget(key, 'lastAccessedTime')).toBe(String(session.lastAccessedTime));

      // A later access the saved object saw (loaded with a touch) is what the deadline counts from.
      await sleep(100);
      const touched = (await repo.findById(session.id))!;
      touched.maxInactiveIntervalInSeconds = 3;
      expect(await repo.save(touched)).toBe(true);
      const askedAgain = Date.now();
      const left = await inspector.pttl(key);
      expect(left).toBeLessThanOrEqual(touched.lastAccessedTime + 3000 - askedAgain + 5); // 5 ms: Redis' clock and ours
      expect(left).toBeGreaterThan(touched.lastAccessedTime + 3000 - askedAgain - 250);
      expect(Number(await inspector.zscore(keys.expirations(0), session.id))).toBe(touched.lastAccessedTime + 3000);
    });

    it('is absent (PTTL -1) for a negative interval, and comes back with a positive one', async () => {
      const { repo, keys } = repository(redis, { interval: -1 });
      const session = await stored(repo, { a: 1 });
      const key = keys.session(session.id);
      expect(await inspector.pttl(key)).toBe(-1);
      expect(await inspector.hget(key, 'maxInactiveInterval')).toBe('-1');
      expect(await inspector.zscore(keys.expirations(0), session.id)).toBeNull();
      const loaded = (await repo.findById(session.id))!;
      expect(await inspector.pttl(key)).toBe(-1);

      loaded.maxInactiveIntervalInSeconds = 30;
      expect(await repo.save(loaded)).toBe(true);
      near(await inspector.pttl(key), 30);
      expect(await inspector.zscore(keys.expirations(0), session.id)).not.toBeNull();
      loaded.maxInactiveIntervalInSeconds = -5;
      expect(await repo.save(loaded)).toBe(true);
      expect(await inspector.pttl(key)).toBe(-1);
      expect((await repo.findById(session.id))!.maxInactiveIntervalInSeconds).toBe(-5);
    });

    it('a zero interval removes the session and its index entries at once', async () => {
      const { repo, keys } = repository(redis);
      const session = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'zed' });
      const loaded = (await repo.findById(session.id))!;
      loaded.maxInactiveIntervalInSeconds = 0;
      await repo.save(loaded);
      expect(await inspector.exists(keys.session(session.id))).toBe(0);
      // Left in the deadline index, the sweeper would announce this expiry a second time.
      expect(await inspector.zscore(keys.expirations(0), session.id)).toBeNull();
      expect(await inspector.hexists(keys.expiringPrincipals(0), session.id)).toBe(0);
      expect(await inspector.exists(keys.principalIndex('zed'))).toBe(0);
    });

    it('never returns a stored session with interval 0, whatever its lastAccessedTime says', async () => {
      const { repo, keys } = repository(redis);
      const id = repo.createSession().id;
      // Written by an instance whose clock runs ahead.
      const future = String(Date.now() + 60_000);
      await inspector.hset(keys.session(id), 'creationTime', future, 'lastAccessedTime', future, 'maxInactiveInterval', '0', 'sessionAttr:a', '1');
      expect(await repo.findById(id)).toBeUndefined();
      expect(await repo.findById(id, { touch: false })).toBeUndefined();
    });
  });

  describe('principal index keys', () => {
    it('leaves no index key of a principal whose sessions were all deleted', async () => {
      const { repo, keys } = repository(redis);
      const alice = [await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'alice' }), await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'alice' })];
      const bob = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'bob' });
      expect((await inspector.smembers(keys.principalIndex('alice'))).sort()).toEqual(alice.map((s) => s.id).sort());
      expect(await repo.findByPrincipalName('alice')).toHaveLength(2);
      expect(await repo.deleteByPrincipalName('alice')).toBe(2);
      const indexKeys = await inspector.keys(`${keys.namespace}:index:*`);
      expect(indexKeys.filter((key) => key.includes('alice'))).toEqual([]);
      expect(indexKeys).toEqual([keys.principalIndex('bob')]);
      expect(await inspector.smembers(keys.principalIndex('bob'))).toEqual([bob.id]);
      for (const session of alice) expect(await inspector.exists(keys.session(session.id))).toBe(0);
      expect(await inspector.hkeys(keys.expiringPrincipals(0))).toEqual([bob.id]);
    });

    it('leaves no index entry behind when a principal or interval change races the deletion (300 runs)', async () => {
      const { repo, keys } = repository(redis);
      const peer = new RedisSessionRepository(inspector, keys, settingsOf(), INTERVAL);
      for (let run = 0; run < 300; run++) {
        const session = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'before', a: 1 }, run % 3 === 0 ? -1 : INTERVAL);
        const copy = (await repo.findById(session.id))!;
        copy.set(PRINCIPAL_NAME_INDEX_NAME, 'after');
        if (run % 3 === 0) copy.maxInactiveIntervalInSeconds = 300;
        if (run % 3 === 1) copy.changeId();
        const [saved] = await Promise.all([repo.save(copy), peer.deleteById(session.id)]);
        if (copy.id !== session.id && saved && (await inspector.exists(keys.session(copy.id))) === 1) {
          // Moved before the deletion came: the deletion found nothing, and the moved session is filed in full.
          expect(await inspector.zscore(keys.expirations(0), copy.id)).not.toBeNull();
          expect(await inspector.hget(keys.expiringPrincipals(0), copy.id)).toBe('after');
          expect(await inspector.smembers(keys.principalIndex('after'))).toEqual([copy.id]);
          await repo.deleteById(copy.id);
        }
        const left = await Promise.all(
          [session.id, copy.id].flatMap((id) => [
            inspector.exists(keys.session(id)),
            inspector.zscore(keys.expirations(0), id),
            inspector.hexists(keys.expiringPrincipals(0), id),
          ]),
        );
        expect(left.filter((found) => found !== 0 && found !== null)).toEqual([]);
        expect(await inspector.exists(keys.principalIndex('before'), keys.principalIndex('after'))).toBe(0);
      }
    });

    it('drops ids of sessions that vanished behind its back', async () => {
      const { repo, keys } = repository(redis);
      const session = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'gone' });
      await inspector.del(keys.session(session.id));
      expect(await repo.findByPrincipalName('gone')).toEqual([]);
      expect(await inspector.exists(keys.principalIndex('gone'))).toBe(0);
    });
  });
});

describe('RedisSessionRepository on a private server', () => {
  let server: RedisServer;
  let inspector: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    inspector = client(server.url);
  });

  afterAll(async () => {
    await Promise.all(clients.map((made) => made.quit().catch(() => undefined)));
    clients.length = 0;
    await server?.stop();
  });

  describe('command budget', () => {
    let redis: Redis;
    let repo: RedisSessionRepository;
    const figures: Record<string, unknown> = {};

    beforeAll(async () => {
      redis = client(server.url);
      // Loads do not touch here unless a test says so: the touch is measured on its own.
      ({ repo } = repository(redis, { namespace: 'budget', touchIntervalMs: 60_000 }));
      // Warm up: the first use of each script on a connection sends its source.
      const warm = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'warm' });
      const loaded = (await repo.findById(warm.id))!;
      loaded.set('a', 1);
      await repo.save(loaded);
      loaded.changeId();
      await repo.save(loaded);
      await repo.findByPrincipalName('warm');
      await repo.deleteById(loaded.id);
    });

    afterAll(() => {
      console.log(`Redis work per operation (socket reads = round trips; commands include those run inside scripts):\n${JSON.stringify(figures, null, 1)}`);
    });

    it('counts its own INFO commands out', async () => {
      expect(await serverWork(inspector, async () => undefined)).toEqual({ reads: 0, commands: 0, calls: {} });
      const ping = await serverWork(inspector, () => redis.ping());
      expect(ping).toEqual({ reads: 1, commands: 1, calls: { ping: 1 } });
    });

    it('findById is one round trip, one plain HGETALL (no script)', async () => {
      const session = await stored(repo, { a: 1, b: { c: 2 } });
      let found: HttpSession | undefined;
      const work = await serverWork(inspector, async () => (found = await repo.findById(session.id)));
      expect(found?.get('b')).toEqual({ c: 2 });
      figures.findById = work;
      expect(work).toEqual({ reads: 1, commands: 1, calls: { hgetall: 1 } });
    });

    it('a load whose touch is due sends the touch after it: one script, which the load does not wait for', async () => {
      const { repo: touching } = repository(redis, { namespace: 'budget', touchIntervalMs: 0 });
      const session = await stored(touching, { a: 1 });
      await touching.findById(session.id); // warm: the touch script's first use sends its source
      await sleep(5);
      let found: HttpSession | undefined;
      const work = await serverWork(inspector, async () => {
        found = await touching.findById(session.id);
        await redis.ping(); // behind the touch on the same connection: waits for it to be done
      });
      figures.findByIdWithDueTouch = work;
      expect(found!.lastAccessedTime).toBeGreaterThan(session.lastAccessedTime);
      // HGETALL, then EVAL (HMGET, HSET, PEXPIRE inside), then the PING.
      expect(work.calls).toEqual({ hgetall: 1, eval: 1, hmget: 1, hset: 1, pexpire: 1, ping: 1 });
      expect(Number(await inspector.hget(`budget:sessions:{${session.id}}`, 'lastAccessedTime'))).toBe(found!.lastAccessedTime);
    });

    it('a save with one changed attribute is one round trip', async () => {
      const session = await stored(repo, { a: 1, b: 2 });
      const loaded = (await repo.findById(session.id))!;
      loaded.set('a', 2);
      const work = await serverWork(inspector, () => repo.save(loaded));
      figures.saveOneAttribute = work;
      expect(work.reads).toBe(1);
      expect(work.calls.eval).toBe(1);
      // Inside the script: one HSET, of that field only (the hash layout tests check which).
      expect(work.calls.hset).toBe(1);
    });

    it('saving a new session is one round trip: one script writes the hash and its TTL, files the deadline and announces it', async () => {
      const session = repo.createSession();
      session.set('a', 1);
      const work = await serverWork(inspector, () => repo.save(session));
      figures.saveNewSession = work;
      expect(work.reads).toBe(1);
      expect(work.calls).toEqual({ eval: 1, exists: 1, hset: 1, pexpire: 1, zadd: 1, publish: 1 });
      // The client sent the script alone: the ZADD ran inside it.
      const log = await CommandLog.start(server.url);
      try {
        const another = repo.createSession();
        another.set('a', 1);
        await repo.save(another);
        await log.settle();
        const sent = log.clientCommands.map(([name]) => name.toLowerCase()).filter((name) => name !== 'echo');
        expect(sent).toEqual(['eval']);
        const shard = `budget:expirations:{${repo.keys.shardOf(another.id)}}`;
        expect(Number(await inspector.zscore(shard, another.id))).toBe(another.lastAccessedTime + another.maxInactiveIntervalInSeconds * 1000);
        expect(await inspector.pttl(`budget:sessions:{${another.id}}`)).toBeGreaterThan(0);
      } finally {
        log.stop();
      }
    });

    it('a new session deletes no field: its hash does not exist yet (an unset attribute or "remember me" included)', async () => {
      const session = repo.createSession();
      session.set('a', 1);
      session.set('dropped', 2);
      session.remove('dropped');
      session.recordClient('agent', '127.0.0.1'); // as a first request does; rememberMe unset
      const work = await serverWork(inspector, () => repo.save(session));
      expect(work.calls.hset).toBe(1);
      expect(work.calls.hdel).toBeUndefined();
      const stored = await inspector.hgetall(`budget:sessions:{${session.id}}`);
      expect(Object.keys(stored).sort()).toEqual(['creationTime', 'ip', 'lastAccessedTime', 'maxInactiveInterval', 'sessionAttr:a', 'userAgent']);
    });

    it('a request that reads and writes costs two round trips', async () => {
      const session = await stored(repo, { a: 1 });
      const work = await serverWork(inspector, async () => {
        const loaded = (await repo.findById(session.id))!;
        loaded.set('a', 2);
        await repo.save(loaded);
      });
      figures.loadAndSave = work;
      expect(work.reads).toBe(2);
    });

    it('concurrent loads share socket writes', async () => {
      const sessions = await Promise.all(Array.from({ length: 50 }, () => stored(repo, { a: 1 })));
      const work = await serverWork(inspector, () => Promise.all(sessions.map((session) => repo.findById(session.id))));
      figures.fiftyConcurrentLoads = work;
      expect(work.calls.hgetall).toBe(50);
      expect(work.reads).toBeLessThanOrEqual(3);
    });

    it('records the cost of the other operations', async () => {
      const session = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'costly' });
      await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'costly' });
      const loaded = (await repo.findById(session.id))!;
      loaded.changeId();
      figures.saveWithChangeId = await serverWork(inspector, () => repo.save(loaded));
      figures.findByPrincipalNameOfTwo = await serverWork(inspector, () => repo.findByPrincipalName('costly'));
      figures.deleteById = await serverWork(inspector, () => repo.deleteById(loaded.id));
      const principal = repo.createSession();
      principal.set(PRINCIPAL_NAME_INDEX_NAME, 'costly');
      figures.saveNewSessionWithPrincipal = await serverWork(inspector, () => repo.save(principal));
      for (const work of Object.values(figures)) expect((work as { reads: number }).reads).toBeLessThanOrEqual(2);
    });
  });

  describe('namespace', () => {
    it('puts every key it writes under the namespace x:y:', async () => {
      const redis = client(server.url, 1);
      const keyspace = client(server.url, 1);
      const { repo, keys } = repository(redis, { namespace: 'x:y', interval: 1 });
      expect(keys.eventChannel.startsWith('x:y:')).toBe(true);

      const alice = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'alice', a: 1 });
      await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'alice' }, -1);
      const bob = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'bob' }, 60);
      const renamed = (await repo.findById(bob.id))!;
      renamed.changeId();
      renamed.set('b', { nested: true });
      await repo.save(renamed);
      const soonGone = await stored(repo, { c: 3 }, 60);
      const loaded = (await repo.findById(soonGone.id))!;
      loaded.maxInactiveIntervalInSeconds = 0;
      await repo.save(loaded);
      await repo.findByPrincipalName('alice');
      await repo.findById(alice.id);
      await sleep(1100); // alice's first session expires; the sweeper reports it
      await new ExpirySweeper(repo, 1000).sweep();
      await repo.deleteByPrincipalName('bob');
      const keepers = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'carol' }, 60);

      const all = await keyspace.keys('*');
      expect(all.length).toBeGreaterThanOrEqual(4);
      expect(all.filter((key) => !key.startsWith('x:y:'))).toEqual([]);
      expect(all).toContain(`x:y:sessions:{${keepers.id}}`);
      expect(all).toContain(`x:y:index:${PRINCIPAL_NAME_INDEX_NAME}:carol`);
      expect(all).toContain('x:y:expirations:{0}');
    });
  });
});
