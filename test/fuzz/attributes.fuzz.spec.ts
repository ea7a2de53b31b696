import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { FlushMode, InMemorySessionRepository, PRINCIPAL_NAME_INDEX_NAME, SessionAttributeError, type HttpSession, type SessionRepository } from 'nestjs-redis-session';
import { RedisSessionRepository } from '../../libs/session/src/redis/redis-session-repository.js';
import { RedisKeys } from '../../libs/session/src/redis/redis-keys.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { recordUnhandledRejections } from '../http/host-process.js';
import { memoryOptionsOf, settingsOf, type RepositoryOptions } from '../session/support/repositories.js';
import { asStored, isJsonFaithful } from './support/json-faithful.js';
import { keysOutsideNamespace } from './support/key-audit.js';
import { prototypeChanges, snapshotObjectPrototype } from './support/prototype-guard.js';

/**
 * Attribute names and values through HttpSession.set, on both repositories: whatever a caller
 * passes is either refused at set() with a SessionAttributeError, or stored and loaded back exactly
 * (by another instance, for Redis); nothing pollutes Object.prototype; every key stays in the namespace.
 */

/** A small limit, so that generated values fall on both sides of it. */
const SMALL_LIMIT = 64;

const SPECIAL_NAMES = [
  '__proto__', 'constructor', 'prototype', 'constructor.prototype', '__proto__.polluted', 'toString', 'hasOwnProperty',
  '__defineGetter__', 'valueOf', 'sessionAttr:', 'creationTime', 'lastAccessedTime', 'maxInactiveInterval', '{', '}', '*', ' ', '\u0000',
  PRINCIPAL_NAME_INDEX_NAME,
];
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const attributeName = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_NAMES) },
  { weight: 1, arbitrary: fc.string({ unit: fc.oneof(fc.constantFrom('a', ':', '{', '}', '_'), loneSurrogate), maxLength: 6 }) },
);
/** Names that a store can keep: non-empty, well-formed Unicode (a lone surrogate has no UTF-8 form). */
const storableName = (name: string) => name.length > 0 && !/\p{Cs}/u.test(name);

const anyValue = fc.anything({
  maxDepth: 3,
  key: fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toJSON')),
  withBoxedValues: true, withMap: true, withSet: true, withDate: true, withBigInt: true, withNullPrototype: true,
  withTypedArray: true, withSparseArray: true, withObjectString: true, stringUnit: 'binary',
});
const jsonValue = fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' });

interface Store {
  /** Where sessions are created and saved. */
  repo: SessionRepository;
  /** Another instance over the same data (Redis: another connection), where they are loaded. */
  peer: SessionRepository;
}

interface Backend {
  name: string;
  start(): Promise<void>;
  open(options: RepositoryOptions): Store;
  /** Every key of the store outside its namespace (Redis only). */
  strayKeys(): Promise<string[]>;
  stop(): Promise<void>;
}

function memoryBackend(): Backend {
  const opened: InMemorySessionRepository[] = [];
  return {
    name: 'in-memory',
    async start() {},
    open(options) {
      const repo = new InMemorySessionRepository(memoryOptionsOf({ ...options, interval: 1800 }));
      opened.push(repo);
      return { repo, peer: repo };
    },
    strayKeys: async () => [],
    async stop() {
      for (const repo of opened) repo.close();
    },
  };
}

function redisBackend(): Backend {
  const namespace = uniqueNamespace('fuzz-attributes');
  let server: RedisServer;
  let clients: Redis[] = [];
  return {
    name: 'Redis',
    async start() {
      server = await startRedisServer();
      clients = [0, 1].map(() => new Redis(server.url, { enableAutoPipelining: true, maxRetriesPerRequest: 1 }));
    },
    open(options) {
      const keys = new RedisKeys(namespace, 1);
      const [first, second] = clients;
      return { repo: new RedisSessionRepository(first, keys, settingsOf(options), 1800), peer: new RedisSessionRepository(second, keys, settingsOf(options), 1800) };
    },
    strayKeys: () => keysOutsideNamespace(clients[0], namespace),
    async stop() {
      await Promise.all(clients.map((client) => client.quit()));
      await server.stop();
    },
  };
}

/** Sets each attribute, saves, and loads the session on the peer; returns the names refused at set() and the loaded copy. */
async function storeAndLoad(store: Store, attributes: [string, unknown][], prepare?: (session: HttpSession) => void) {
  const session = store.repo.createSession();
  prepare?.(session);
  const refused = new Map<string, unknown>();
  for (const [name, value] of attributes) {
    try {
      session.set(name, value);
    } catch (error) {
      refused.set(name, error);
    }
  }
  await session.save();
  const loaded = session.isNew ? undefined : await store.peer.findById(session.id);
  return { session, refused, loaded };
}

describe.each([memoryBackend(), redisBackend()])('attribute fuzz on the $name repository', (backend) => {
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  const prototypeBefore = snapshotObjectPrototype();

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    await backend.start();
  });

  afterAll(async () => {
    rejections.stop();
    await backend.stop();
  });

  it('any names with JSON values: refused at set() only for an empty or ill-formed name, otherwise loaded back exactly', async () => {
    const store = backend.open({});
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.tuple(attributeName, jsonValue), { selector: ([name]) => name, minLength: 1, maxLength: 4 }), async (attributes) => {
        const { refused, loaded } = await storeAndLoad(store, attributes);
        for (const [name, error] of refused) {
          expect(error).toBeInstanceOf(SessionAttributeError);
          expect(storableName(name)).toBe(false);
        }
        const kept = attributes.filter(([name]) => !refused.has(name));
        if (kept.length === 0) return expect(loaded).toBeUndefined(); // nothing written: a new session is not stored
        expect(loaded).toBeDefined();
        expect(loaded!.attributeNames().sort()).toEqual(kept.map(([name]) => name).sort());
        for (const [name, value] of kept) expect(loaded!.get(name)).toEqual(asStored(value));
        expect(prototypeChanges(prototypeBefore)).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('any value at all: refused at set() with a SessionAttributeError exactly when JSON would not bring it back, else loaded back exactly', async () => {
    const store = backend.open({});
    await fc.assert(
      fc.asyncProperty(anyValue, async (value) => {
        const { session, refused, loaded } = await storeAndLoad(store, [['value', value]]);
        const error = refused.get('value');
        if (value === undefined) {
          // Documented: set(name, undefined) removes the attribute.
          expect(error).toBeUndefined();
          expect(loaded).toBeUndefined();
        } else if (isJsonFaithful(value)) {
          expect(error).toBeUndefined();
          expect(loaded?.get('value')).toEqual(asStored(value));
        } else {
          expect(error).toBeInstanceOf(SessionAttributeError);
          expect((error as Error).message).toMatch(/^Session attribute "value" cannot be stored: /);
          // Refused means untouched: nothing half-set, nothing to write.
          expect(session.attributeNames()).toEqual([]);
          expect(session.hasChanges()).toBe(false);
          expect(loaded).toBeUndefined();
        }
        expect(prototypeChanges(prototypeBefore)).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it.each([FlushMode.ON_SAVE, FlushMode.IMMEDIATE])(
    'values over maxAttributeBytes are refused at set() with a clear error, and the stored value is kept (flush mode %s)',
    async (flushMode) => {
      const store = backend.open({ maxAttributeBytes: SMALL_LIMIT, flushMode });
      await fc.assert(
        fc.asyncProperty(fc.oneof(jsonValue, fc.string({ unit: 'binary', maxLength: 80 })), async (value) => {
          const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
          const { refused, loaded } = await storeAndLoad(store, [['big', value]], (session) => session.set('big', 'before'));
          const error = refused.get('big');
          if (bytes > SMALL_LIMIT) {
            expect(error).toBeInstanceOf(SessionAttributeError);
            expect((error as Error).message).toBe(`Session attribute "big" cannot be stored: its serialized size exceeds maxAttributeBytes (${SMALL_LIMIT})`);
            expect(loaded!.get('big')).toBe('before');
          } else {
            expect(error).toBeUndefined();
            expect(loaded!.get('big')).toEqual(asStored(value));
          }
        }),
        { numRuns: 250 },
      );
    },
  );

  it('any principal name: the session is found by it, and by it only', async () => {
    const store = backend.open({});
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }), async (principal) => {
        const { loaded } = await storeAndLoad(store, [[PRINCIPAL_NAME_INDEX_NAME, principal]]);
        const found = await store.peer.findByPrincipalName(principal);
        expect(found.map((session) => session.id)).toContain(loaded!.id);
        expect(found.every((session) => session.principalName === principal)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('after every run: no key outside the namespace, Object.prototype untouched, no unhandled rejection', async () => {
    expect(await backend.strayKeys()).toEqual([]);
    expect(prototypeChanges(prototypeBefore)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(rejections.reasons).toEqual([]);
  });
});
