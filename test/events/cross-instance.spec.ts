import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { newClient, sharedRedisUrl, uniqueNamespace } from '../harness/redis.js';
import { sleep, startInstance, storeSession, type Instance } from './instance.js';

describe('session events across two instances', () => {
  const namespace = uniqueNamespace('events');
  let a: Instance;
  let b: Instance;
  let other: Instance;
  let raw: Redis;

  beforeAll(async () => {
    a = await startInstance({ redis: sharedRedisUrl(), redisNamespace: namespace });
    b = await startInstance({ redis: sharedRedisUrl(), redisNamespace: namespace });
    // Same Redis, a namespace that starts like ours: nothing it does may reach a or b.
    other = await startInstance({ redis: sharedRedisUrl(), redisNamespace: `${namespace}x` });
    raw = newClient();
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), other?.close()]);
    await raw?.quit();
  });

  it('a session created on A is announced as created on B', async () => {
    const { session } = await storeSession(a.repository);
    const event = await b.waitFor((e) => e.sessionId === session.id && e.type === 'created', 2000);
    expect(event).toMatchObject({ type: 'created', sessionId: session.id });
  });

  it('invalidating on A yields deleted on B within 500 ms', async () => {
    const { session } = await storeSession(a.repository);
    const start = Date.now();
    await session.invalidate();
    const event = await b.waitFor((e) => e.sessionId === session.id && e.type === 'deleted', 2000);
    expect(event.at - start).toBeLessThanOrEqual(500);
  });

  it('deleteById on A yields deleted on B within 500 ms', async () => {
    const { session } = await storeSession(a.repository);
    const start = Date.now();
    await a.repository.deleteById(session.id);
    const event = await b.waitFor((e) => e.sessionId === session.id && e.type === 'deleted', 2000);
    expect(event.at - start).toBeLessThanOrEqual(500);
  });

  it('an external DEL of the session key yields deleted on both instances', async () => {
    const { session } = await storeSession(a.repository);
    await raw.del(`${namespace}:sessions:{${session.id}}`);
    await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === session.id && e.type === 'deleted', 2000)));
    // Its entry in the expiry index is gone too, so the sweeper never reports it expired later.
    expect(await raw.zscore(`${namespace}:expirations:{0}`, session.id)).toBeNull();
  });

  it('an external DEL of a session that never expires (not in the expiry index) still yields deleted on both', async () => {
    const { session } = await storeSession(a.repository, { a: 1 }, -1);
    await raw.del(`${namespace}:sessions:{${session.id}}`);
    await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === session.id && e.type === 'deleted', 3000)));
  });

  it('an idle session yields exactly one expired on each instance, within 2 s of its deadline', async () => {
    const { session, createdAt } = await storeSession(a.repository, { a: 1 }, 2);
    const earliestDeadline = createdAt + 2000;
    const [onA, onB] = await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 6000)));
    for (const event of [onA, onB]) {
      expect(event.at).toBeGreaterThanOrEqual(earliestDeadline);
      expect(event.at - earliestDeadline).toBeLessThanOrEqual(2000);
    }
    await sleep(1500); // sweeps and late notifications that could repeat it
    expect([a.count(session.id, 'expired'), b.count(session.id, 'expired')]).toEqual([1, 1]);
    expect([a.count(session.id, 'deleted'), b.count(session.id, 'deleted')]).toEqual([0, 0]);
  });

  it("an expiry costs Redis the sweeper's claim alone, however many instances hear of it", async () => {
    const { session } = await storeSession(a.repository, { a: 1 }, 1);
    // Every command naming the session's id, from any client, while it expires (not those run inside a script).
    const monitor = await raw.monitor();
    const naming: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && args.some((arg) => arg.includes(session.id))) naming.push(args);
    });
    try {
      await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 5000)));
      await sleep(1500); // past the listeners' grace: a late claim by either would show here
    } finally {
      monitor.disconnect();
    }
    const count = (name: string) => naming.filter((args) => args[0]!.toLowerCase() === name).length;
    // The sweeper: PTTL (again, with a ZADD, if a sweep came in the millisecond before the key
    // expired), the FORGET claim, the announcement. Each instance's 'expired' keyevent waits for
    // that announcement instead of claiming too (a FORGET and an HGET per instance).
    expect({ forget: count('eval'), hget: count('hget'), publish: count('publish') }).toEqual({ forget: 1, hget: 0, publish: 1 });
    expect(count('pttl')).toBeGreaterThanOrEqual(1);
  });

  it("an expiry only Redis knows of (a TTL set behind the library's back) still yields one expired on each", async () => {
    const { session } = await storeSession(a.repository, { a: 1 }, -1); // never expires: not in the sweeper's index
    await raw.pexpire(`${namespace}:sessions:{${session.id}}`, 100);
    await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 4000)));
    await sleep(1500);
    expect([a.count(session.id, 'expired'), b.count(session.id, 'expired')]).toEqual([1, 1]);
  });

  it('a session kept in use does not expire', async () => {
    const { session } = await storeSession(a.repository, { a: 1 }, 1);
    for (let i = 0; i < 6; i++) {
      await sleep(400);
      expect(await b.repository.findById(session.id)).toBeDefined();
    }
    expect(a.count(session.id, 'expired') + b.count(session.id, 'expired')).toBe(0);
  });

  it('a changed id is neither an end nor a new session', async () => {
    const { session } = await storeSession(a.repository);
    const oldId = session.id;
    const loaded = (await b.repository.findById(oldId))!;
    const newId = loaded.changeId();
    expect(await b.repository.save(loaded)).toBe(true);
    await sleep(1200); // past the listener's wait for an announcement
    const about = (id: string) => [...a.seen, ...b.seen].filter((e) => e.sessionId === id).map((e) => e.type);
    expect(about(oldId)).toEqual(['created', 'created']);
    expect(about(newId)).toEqual([]);
  });

  it('ignores every event of another namespace on the same Redis', async () => {
    const { session } = await storeSession(other.repository, { a: 1 }, 1);
    const second = await storeSession(other.repository);
    await other.repository.deleteById(second.session.id);
    await other.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 4000);
    await sleep(300);
    const ids = new Set([session.id, second.session.id]);
    expect([...a.seen, ...b.seen].filter((e) => ids.has(e.sessionId))).toEqual([]);
  });
});

describe('expiry while no instance runs', () => {
  it('is announced by the first sweep after an instance starts', async () => {
    const namespace = uniqueNamespace('offline');
    const first = await startInstance({ redis: sharedRedisUrl(), redisNamespace: namespace });
    const { session } = await storeSession(first.repository, { a: 1 }, 1);
    await first.close();
    await sleep(1500);
    const next = await startInstance({ redis: sharedRedisUrl(), redisNamespace: namespace });
    try {
      await next.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 3000);
    } finally {
      await next.close();
    }
  });
});
