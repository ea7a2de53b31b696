import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { PRINCIPAL_NAME_INDEX_NAME } from 'nestjs-redis-session';
import { newClient, sharedRedisUrl, uniqueNamespace } from '../harness/redis.js';
import { sleep, startInstance, storeSession, type Instance } from './instance.js';

describe('sessions by principal name', () => {
  const namespace = uniqueNamespace('principal');
  let a: Instance;
  let b: Instance;
  let raw: Redis;

  /** Every key of the namespace that names alice, and every expiry-index entry left for her sessions. */
  async function aliceLeftovers(ids: string[]): Promise<string[]> {
    const keys = await raw.keys(`${namespace}:index:*alice`);
    const filed = await Promise.all(ids.map((id) => raw.zscore(`${namespace}:expirations:{0}`, id)));
    const principals = await raw.hmget(`${namespace}:expirations:{0}:principals`, ...ids);
    return [
      ...keys,
      ...ids.filter((_, i) => filed[i] !== null).map((id) => `expirations entry ${id}`),
      ...ids.filter((_, i) => principals[i] !== null).map((id) => `principals entry ${id}`),
    ];
  }

  beforeAll(async () => {
    a = await startInstance({ redis: sharedRedisUrl(), redisNamespace: namespace });
    b = await startInstance({ redis: sharedRedisUrl(), redisNamespace: namespace });
    raw = newClient();
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await raw?.quit();
  });

  it('finds, forgets on expiry, and deletes every session of a principal, leaving no index behind', async () => {
    const { session: short } = await storeSession(a.repository, { [PRINCIPAL_NAME_INDEX_NAME]: 'alice' }, 1);
    const { session: long } = await storeSession(a.repository, { [PRINCIPAL_NAME_INDEX_NAME]: 'alice' });
    const { session: bob } = await storeSession(a.repository, { [PRINCIPAL_NAME_INDEX_NAME]: 'bob' });

    expect((await b.repository.findByPrincipalName('alice')).map((s) => s.id).sort()).toEqual([short.id, long.id].sort());
    expect((await b.repository.findByPrincipalName('bob')).map((s) => s.id)).toEqual([bob.id]);

    const expired = await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === short.id && e.type === 'expired', 5000)));
    expect(expired.map((event) => event.principalName)).toEqual(['alice', 'alice']);
    // The expired id left the index itself (not merely skipped by the lookup).
    expect(await raw.smembers(`${namespace}:index:${PRINCIPAL_NAME_INDEX_NAME}:alice`)).toEqual([long.id]);
    expect((await a.repository.findByPrincipalName('alice')).map((s) => s.id)).toEqual([long.id]);

    expect(await a.repository.deleteByPrincipalName('alice')).toBe(1);
    const deleted = await b.waitFor((e) => e.sessionId === long.id && e.type === 'deleted', 2000);
    expect(deleted.principalName).toBe('alice');
    expect(await b.repository.findByPrincipalName('alice')).toEqual([]);
    await sleep(300); // let every instance's clean-up run before looking for leftovers
    expect(await aliceLeftovers([short.id, long.id])).toEqual([]);
    expect((await b.repository.findByPrincipalName('bob')).map((s) => s.id)).toEqual([bob.id]);
  });

  it('an externally deleted session leaves the index, and its event names the principal', async () => {
    const { session } = await storeSession(a.repository, { [PRINCIPAL_NAME_INDEX_NAME]: 'carol' });
    await raw.del(`${namespace}:sessions:{${session.id}}`);
    const events = await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === session.id && e.type === 'deleted', 2000)));
    expect(events.map((event) => event.principalName)).toEqual(['carol', 'carol']);
    await sleep(200);
    expect(await raw.exists(`${namespace}:index:${PRINCIPAL_NAME_INDEX_NAME}:carol`)).toBe(0);
    expect(await raw.hget(`${namespace}:expirations:{0}:principals`, session.id)).toBeNull();
  });

  it('an externally deleted session that never expires leaves no index behind either', async () => {
    const { session } = await storeSession(a.repository, { [PRINCIPAL_NAME_INDEX_NAME]: 'ivan' }, -1);
    await raw.del(`${namespace}:sessions:{${session.id}}`);
    const events = await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === session.id && e.type === 'deleted', 3000)));
    expect(events.map((event) => event.principalName)).toEqual(['ivan', 'ivan']);
    await sleep(200);
    expect(await raw.exists(`${namespace}:index:${PRINCIPAL_NAME_INDEX_NAME}:ivan`)).toBe(0);
    expect(await raw.hget(`${namespace}:expirations:{0}:principals`, session.id)).toBeNull();
  });

  it('a principal set after creation is indexed, and cleaned on expiry', async () => {
    const { session } = await storeSession(a.repository, { a: 1 }, 1);
    const loaded = (await b.repository.findById(session.id))!;
    loaded.set(PRINCIPAL_NAME_INDEX_NAME, 'dave');
    expect(await b.repository.save(loaded)).toBe(true);
    expect((await a.repository.findByPrincipalName('dave')).map((s) => s.id)).toEqual([session.id]);
    const expired = await a.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 5000);
    expect(expired.principalName).toBe('dave');
    await sleep(200);
    expect(await raw.exists(`${namespace}:index:${PRINCIPAL_NAME_INDEX_NAME}:dave`)).toBe(0);
  });
});
