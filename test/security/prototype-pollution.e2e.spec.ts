import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { InMemorySessionRepository, JsonSessionSerializer, PRINCIPAL_NAME_INDEX_NAME, type SessionRepository } from 'nestjs-redis-session';
import { RedisSessionRepository } from '../../libs/session/src/redis/redis-session-repository.js';
import { RedisKeys } from '../../libs/session/src/redis/redis-keys.js';
import { prototypeChanges, rootPrototypeOf, snapshotObjectPrototype } from '../fuzz/support/prototype-guard.js';
import { sharedRedisUrl, uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from '../http/client.js';
import { hostProcess } from '../http/host-process.js';
import { settingsOf } from '../session/support/repositories.js';
import { startSecurityApp, type SecurityApp } from './support/security-app.js';

/**
 * No prototype pollution through the session: attribute names such as `__proto__` and
 * `constructor`, JSON values with `__proto__` keys (sent by a client, or written into the hash by
 * another writer), principal names. Attributes live in Maps and values are parsed by JSON.parse,
 * which makes `__proto__` an own data property; both realms' Object.prototype stay as they were.
 */

const POISON = { polluted: 'yes' };
const HOSTILE_NAMES = ['__proto__', 'constructor', 'prototype', 'constructor.prototype', '__proto__.polluted', 'toString', 'hasOwnProperty', 'valueOf'];
/** JSON as an attacker would write it: `__proto__` as a key, at the top and nested. */
const HOSTILE_JSON = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"nested":[{"__proto__":{"polluted":"yes"}}]}';

describe('prototype pollution', () => {
  const namespace = uniqueNamespace('pollution');
  const realms = [Object.prototype, rootPrototypeOf(hostProcess())];
  const before = realms.map((prototype) => snapshotObjectPrototype(prototype));
  let app: SecurityApp;
  let redis: Redis;

  beforeAll(async () => {
    app = await startSecurityApp({ redis: sharedRedisUrl(), redisNamespace: namespace });
    redis = new Redis(sharedRedisUrl());
  });

  afterAll(async () => {
    await app.app.close();
    redis.disconnect();
  });

  function expectPrototypesUntouched(): void {
    expect(realms).toHaveLength(2);
    expect(realms[0]).not.toBe(realms[1]); // the check covers both realms
    realms.forEach((prototype, i) => {
      expect(prototypeChanges(before[i], prototype)).toEqual([]);
      expect((Object.create(prototype) as Record<string, unknown>).polluted).toBeUndefined();
    });
  }

  /** A value loaded from JSON with a `__proto__` key: that key is an own data property, the prototype is Object's. */
  function expectInert(value: any): void {
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    // biome-ignore lint/suspicious/noProto: reads the own data property named __proto__, the case under test
    expect(value.__proto__).toEqual(POISON);
    expect(value.polluted).toBeUndefined();
  }

  it('over HTTP: hostile attribute names and JSON bodies are stored as data and read back as data', async () => {
    const client = new CookieClient(app.url);
    for (const name of HOSTILE_NAMES) expect((await client.post('/set', { name, value: POISON })).status).toBe(200);
    // The body as raw JSON, so that "__proto__" arrives as a key and not as the client's prototype.
    const response = await fetch(`${app.url}/set`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `SESSION=${client.cookies.get('SESSION')}` },
      body: `{"name":"hostile","value":${HOSTILE_JSON}}`,
    });
    expect(response.status).toBe(200);

    const { body } = await client.get('/attributes');
    const attributes = new Map<string, unknown>(body.attributes);
    expect([...attributes.keys()].sort()).toEqual([...HOSTILE_NAMES, 'hostile'].sort());
    for (const name of HOSTILE_NAMES) expect(attributes.get(name)).toEqual(POISON);
    // The "__proto__" key reached the session and came back (the platform's body parser kept it as data).
    expect(Object.hasOwn(attributes.get('hostile') as object, '__proto__')).toBe(true);
    expectPrototypesUntouched();
  });

  it('values with __proto__ keys written into the hash by another writer load as inert data (repository, HTTP)', async () => {
    const id = 'P'.repeat(28);
    const now = Date.now();
    await redis.hset(`${namespace}:sessions:{${id}}`, {
      creationTime: now, lastAccessedTime: now, maxInactiveInterval: 600,
      'sessionAttr:__proto__': JSON.stringify(POISON),
      'sessionAttr:constructor': '{"prototype":{"polluted":"yes"}}',
      'sessionAttr:hostile': HOSTILE_JSON,
      'sessionAttr:toString': '"not a function"',
      [`sessionAttr:${PRINCIPAL_NAME_INDEX_NAME}`]: '"__proto__"',
    });

    const session = (await app.repository.findById(id))!;
    expect(session.attributeNames().sort()).toEqual(['__proto__', 'constructor', 'hostile', 'toString', PRINCIPAL_NAME_INDEX_NAME].sort());
    expect(session.get('__proto__')).toEqual(POISON);
    expect(session.get('toString')).toBe('not a function');
    expect(session.principalName).toBe('__proto__');
    const hostile = session.get('hostile');
    expectInert(hostile);
    expect(Object.hasOwn(hostile, 'constructor')).toBe(true);
    expectInert(hostile.nested[0]);

    const client = new CookieClient(app.url);
    client.cookies.set('SESSION', Buffer.from(id).toString('base64'));
    const { body } = await client.get('/attributes');
    expect(new Map(body.attributes).get('__proto__')).toEqual(POISON);
    expectPrototypesUntouched();
  });

  it.each([
    ['in-memory', () => new InMemorySessionRepository()],
    ['Redis', () => new RedisSessionRepository(new Redis(sharedRedisUrl()), new RedisKeys(uniqueNamespace('pollution-index'), 1), settingsOf(), 1800)],
  ] as [string, () => SessionRepository][])('%s repository: principal names like __proto__ find their own sessions and nothing else', async (_name, make) => {
    const repository = make();
    try {
      const proto = repository.createSession();
      proto.set(PRINCIPAL_NAME_INDEX_NAME, '__proto__');
      await proto.save();
      for (const name of ['constructor', 'toString', 'hasOwnProperty', 'prototype', '__proto__.polluted']) {
        expect({ name, found: await repository.findByPrincipalName(name) }).toEqual({ name, found: [] });
      }
      expect((await repository.findByPrincipalName('__proto__')).map((session) => session.id)).toEqual([proto.id]);
      expect(new JsonSessionSerializer().deserialize(HOSTILE_JSON)).toEqual(JSON.parse(HOSTILE_JSON));
      expectPrototypesUntouched();
    } finally {
      if (repository instanceof InMemorySessionRepository) repository.close();
      if (repository instanceof RedisSessionRepository) await repository.client.quit();
    }
  });
});
