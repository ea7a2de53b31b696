import { describe, expect, it } from '@jest/globals';
import {
  FlushMode,
  generateSessionId,
  HttpSession,
  isValidSessionId,
  JsonSessionSerializer,
  PRINCIPAL_NAME_INDEX_NAME,
  SaveMode,
  SessionAttributeError,
  SessionInvalidatedError,
  type SessionSerializer,
} from 'nestjs-redis-session';
import type { SessionStore } from '../../libs/session/src/core/http-session.js';
import type { SessionData, SessionDelta } from '../../libs/session/src/core/session-data.js';
import { MAX_DEPTH } from '../../libs/session/src/core/session-serializer.js';
import { settingsOf, type RepositoryOptions } from './support/repositories.js';

/** Unit tests of the session model (change tracking, modes, lifecycle), the JSON serializer and ids. */

/** A store that records what it was asked to write, and can hold a save open. */
class RecordingStore implements SessionStore {
  readonly deltas: SessionDelta[] = [];
  readonly deleted: string[] = [];
  gate: Promise<void> | undefined;
  failWith: Error | undefined;

  async save(session: HttpSession<any>): Promise<boolean> {
    return session.writeInOrder(async () => {
      const delta = session.delta();
      this.deltas.push(delta);
      await this.gate;
      if (this.failWith) throw this.failWith;
      session.markSaved(delta);
      return true;
    });
  }

  async deleteById(id: string): Promise<void> {
    this.deleted.push(id);
  }
}

function serialized(values: Record<string, unknown>): Map<string, string> {
  return new Map(Object.entries(values).map(([name, value]) => [name, JSON.stringify(value)]));
}

/** A session as if loaded from the store, with these attributes. */
function loaded(values: Record<string, unknown> = {}, options: RepositoryOptions = {}, store = new RecordingStore()) {
  const data: SessionData = { creationTime: 1000, lastAccessedTime: Date.now(), maxInactiveIntervalInSeconds: 1800, attributes: serialized(values) };
  return { session: new HttpSession(store, settingsOf(options), generateSessionId(), data), store };
}

function fresh(options: RepositoryOptions = {}, store = new RecordingStore()) {
  const now = Date.now();
  const data: SessionData = { creationTime: now, lastAccessedTime: now, maxInactiveIntervalInSeconds: 1800, attributes: new Map() };
  return { session: new HttpSession(store, settingsOf(options), undefined, data), store };
}

describe('HttpSession', () => {
  describe('change tracking', () => {
    it('a new session has nothing to store until something is written to it', () => {
      const { session } = fresh();
      expect(session.isNew).toBe(true);
      expect(session.hasChanges()).toBe(false);
      session.get('missing');
      expect(session.hasChanges()).toBe(false);
      session.set('a', 1);
      expect(session.hasChanges()).toBe(true);
    });

    it('a loaded session writes only what was set or removed', () => {
      const { session } = loaded({ a: 1, b: 2, c: 3 });
      expect(session.isNew).toBe(false);
      expect(session.hasChanges()).toBe(false);
      session.get('a');
      session.set('b', 20);
      session.remove('c');
      session.remove('never-there');
      const delta = session.delta();
      expect([...delta.attributes]).toEqual([
        ['b', '20'],
        ['c', undefined],
      ]);
      expect(delta.intervalChanged).toBe(false);
      expect(delta.storedId).toBe(session.id);
    });

    it('a name changed again while its save is in flight stays to be written', async () => {
      const { session, store } = loaded({ a: 1 });
      let open!: () => void;
      store.gate = new Promise((resolve) => (open = resolve));
      session.set('a', 2);
      const saving = session.save();
      while (store.deltas.length === 0) await Promise.resolve();
      session.set('a', 3);
      open();
      expect(await saving).toBe(true);
      expect(session.hasChanges()).toBe(true);
      expect([...session.delta().attributes]).toEqual([['a', '3']]);
      store.gate = undefined;
      expect(await session.save()).toBe(true);
      expect(session.hasChanges()).toBe(false);
    });

    it('an interval changed again while its save is in flight stays to be written', async () => {
      const { session, store } = loaded();
      let open!: () => void;
      store.gate = new Promise((resolve) => (open = resolve));
      session.maxInactiveIntervalInSeconds = 60;
      const saving = session.save();
      while (store.deltas.length === 0) await Promise.resolve();
      session.maxInactiveIntervalInSeconds = 120;
      open();
      expect(await saving).toBe(true);
      expect(session.hasChanges()).toBe(true);
      expect(session.delta()).toMatchObject({ intervalChanged: true, maxInactiveIntervalInSeconds: 120 });
    });

    it('parses only the attributes that are read', () => {
      const parsed: string[] = [];
      const json = new JsonSessionSerializer();
      const serializer: SessionSerializer = {
        serialize: (value, name) => json.serialize(value, name),
        deserialize: (text, name) => {
          parsed.push(name);
          return json.deserialize(text);
        },
      };
      const { session } = loaded({ a: { big: true }, b: 2, c: 3 }, { serializer });
      expect(session.attributeNames().sort()).toEqual(['a', 'b', 'c']);
      expect(session.get('b')).toBe(2);
      expect(session.get('b')).toBe(2);
      expect(parsed).toEqual(['b']);
    });

    it('checks and tracks the interval', () => {
      const { session } = loaded();
      expect(() => (session.maxInactiveIntervalInSeconds = 1.5)).toThrow(RangeError);
      expect(() => (session.maxInactiveIntervalInSeconds = NaN)).toThrow(RangeError);
      session.maxInactiveIntervalInSeconds = 1800;
      expect(session.hasChanges()).toBe(false);
      session.maxInactiveIntervalInSeconds = -1;
      expect(session.hasChanges()).toBe(true);
      expect(session.delta()).toMatchObject({ intervalChanged: true, maxInactiveIntervalInSeconds: -1 });
      expect(session.isExpired).toBe(false);
      session.maxInactiveIntervalInSeconds = 0;
      expect(session.isExpired).toBe(true);
    });

    it('changeId asks for a move plus only what changed, and re-files the principal under the new id', () => {
      const { session } = loaded({ a: 1, b: 1, [PRINCIPAL_NAME_INDEX_NAME]: 'ada' });
      const oldId = session.id;
      session.set('b', 2);
      const newId = session.changeId();
      expect(isValidSessionId(newId)).toBe(true);
      const delta = session.delta();
      expect(delta).toMatchObject({ id: newId, storedId: oldId });
      // Writing 'a' again would undo what another copy saved since this one was loaded.
      expect([...delta.attributes]).toEqual([['b', '2']]);
      expect(delta.principalChange).toEqual({ before: 'ada', after: 'ada' });
      expect(session.principalName).toBe('ada');
    });

    it('a changed principal is reported with its previous name; an unchanged one not at all', () => {
      const { session } = loaded({ [PRINCIPAL_NAME_INDEX_NAME]: 'ada' });
      expect(session.delta().principalChange).toBeUndefined();
      session.set(PRINCIPAL_NAME_INDEX_NAME, 'ada');
      expect(session.delta().principalChange).toBeUndefined();
      session.set(PRINCIPAL_NAME_INDEX_NAME, 'bea');
      expect(session.delta().principalChange).toEqual({ before: 'ada', after: 'bea' });
      session.remove(PRINCIPAL_NAME_INDEX_NAME);
      expect(session.delta().principalChange).toEqual({ before: 'ada', after: undefined });
    });

    it('tells the HTTP layer about changes that affect the cookie', async () => {
      const { session } = loaded({ a: 1 });
      const told: string[] = [];
      session.onChange((changed) => told.push(changed.id));
      const oldId = session.id;
      session.set('b', 2);
      const newId = session.changeId();
      await session.invalidate();
      expect(told).toEqual([oldId, newId, newId]);
    });
  });

  it("sessions made from one shared state (a socket's cached copy) never see each other's saves", async () => {
    const store = new RecordingStore();
    const id = generateSessionId();
    const attributes = serialized({ a: 1, b: 2 });
    const data: SessionData = { creationTime: 1000, lastAccessedTime: Date.now(), maxInactiveIntervalInSeconds: 1800, attributes, attributesShared: true };
    const first = new HttpSession(store, settingsOf({}), id, data);
    const second = new HttpSession(store, settingsOf({}), id, data);
    first.set('a', 10);
    first.remove('b');
    expect(await first.save()).toBe(true);
    expect(first.get('a')).toBe(10);
    expect(first.delta().attributes.size).toBe(0); // its own map follows its save
    // The shared map, and so every other session made from it, is as it was.
    expect(attributes).toEqual(serialized({ a: 1, b: 2 }));
    expect(second.get('a')).toBe(1);
    expect(second.get('b')).toBe(2);
    expect(second.attributeNames().sort()).toEqual(['a', 'b']);
  });

  describe('save modes', () => {
    it('ON_SET_ATTRIBUTE ignores reads', () => {
      const { session } = loaded({ a: { n: 1 } }, { saveMode: SaveMode.ON_SET_ATTRIBUTE });
      (session.get('a') as { n: number }).n = 2;
      expect(session.hasChanges()).toBe(false);
    });

    it('ON_GET_ATTRIBUTE writes back what was read, as it is at save time', () => {
      const { session } = loaded({ a: { n: 1 }, b: 1 }, { saveMode: SaveMode.ON_GET_ATTRIBUTE });
      const value = session.get('a') as { n: number };
      session.get('missing');
      value.n = 2;
      expect([...session.delta().attributes]).toEqual([['a', '{"n":2}']]);
    });

    it('ALWAYS writes every attribute, even with no change', () => {
      const { session } = loaded({ a: 1, b: 2 }, { saveMode: SaveMode.ALWAYS });
      expect(session.hasChanges()).toBe(true);
      expect([...session.delta().attributes.keys()].sort()).toEqual(['a', 'b']);
    });
  });

  describe('flush modes', () => {
    it('IMMEDIATE writes the changes of one tick in one save', async () => {
      const { session, store } = loaded({}, { flushMode: FlushMode.IMMEDIATE });
      session.set('a', 1);
      session.set('b', 2);
      session.remove('a');
      await session.flushed();
      expect(store.deltas).toHaveLength(1);
      expect([...store.deltas[0].attributes]).toEqual([
        ['a', undefined],
        ['b', '2'],
      ]);
      expect(await session.save()).toBe(true);
      expect(store.deltas).toHaveLength(1);
    });

    it('IMMEDIATE reports a failed write at flushed() and at save()', async () => {
      const { session, store } = loaded({}, { flushMode: FlushMode.IMMEDIATE });
      store.failWith = new Error('store down');
      session.set('a', 1);
      await expect(session.flushed()).rejects.toThrow('store down');
      session.set('b', 2);
      await expect(session.save()).rejects.toThrow('store down');
    });

    it('ON_SAVE writes nothing by itself', async () => {
      const { session, store } = loaded({}, { flushMode: FlushMode.ON_SAVE });
      session.set('a', 1);
      await session.flushed();
      expect(store.deltas).toHaveLength(0);
    });
  });

  describe('lifecycle', () => {
    it('invalidate() deletes a stored session once and makes it unusable', async () => {
      const { session, store } = loaded({ a: 1 });
      await session.invalidate();
      await session.invalidate();
      expect(store.deleted).toEqual([session.id]);
      expect(session.isInvalidated).toBe(true);
      expect(() => session.get('a')).toThrow(SessionInvalidatedError);
      expect(() => session.set('a', 2)).toThrow(SessionInvalidatedError);
      expect(() => session.changeId()).toThrow(SessionInvalidatedError);
      expect(await session.save()).toBe(false);
      expect(session.hasChanges()).toBe(false);
    });

    it('invalidate() of a session never stored deletes nothing', async () => {
      const { session, store } = fresh();
      await session.invalidate();
      expect(store.deleted).toEqual([]);
    });

    it('invalidate() during its first save deletes it once stored', async () => {
      const { session, store } = fresh();
      let open!: () => void;
      store.gate = new Promise((resolve) => (open = resolve));
      session.set('a', 1);
      const saving = session.save();
      while (store.deltas.length === 0) await Promise.resolve();
      const invalidating = session.invalidate();
      open();
      await Promise.all([saving, invalidating]);
      expect(store.deleted).toEqual([session.id]);
    });
  });

  describe('attribute names', () => {
    it('refuses names that are not non-empty strings', () => {
      const { session } = fresh();
      for (const name of ['', 1, undefined, null, Symbol('s')]) {
        expect(() => session.set(name as unknown as string, 1)).toThrow(SessionAttributeError);
      }
    });

    it('keeps prototype-ish names as plain attributes', () => {
      const { session } = loaded({ ['__proto__']: { polluted: true }, constructor: 1 });
      expect(session.attributeNames().sort()).toEqual(['__proto__', 'constructor']);
      expect(session.get('__proto__')).toEqual({ polluted: true });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });
});

describe('JsonSessionSerializer', () => {
  const serializer = new JsonSessionSerializer();

  it('names the attribute and the path of the bad part', () => {
    expect(() => serializer.serialize({ a: { b: [1, 2, () => 3] } }, 'profile')).toThrow(
      'Session attribute "profile" cannot be stored: a function is not serializable at .a.b[2]',
    );
    expect(() => serializer.serialize({ when: new Date() }, 'x')).toThrow(/a Date would not come back as a Date.*at \.when/);
  });

  it('refuses symbol keys, which JSON would drop', () => {
    expect(() => serializer.serialize({ a: 1, [Symbol('hidden')]: 2 }, 'x')).toThrow(SessionAttributeError);
  });

  it('refuses absurd nesting with a clear error, not a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => serializer.serialize(deep, 'deep')).toThrow(SessionAttributeError);
    let deepest: unknown = 1;
    for (let i = 0; i < MAX_DEPTH; i++) deepest = { next: deepest };
    expect(serializer.deserialize(serializer.serialize(deepest, 'ok'))).toEqual(deepest);
  });

  it('accepts objects without a prototype; they come back as plain objects', () => {
    const bare = Object.assign(Object.create(null), { a: 1 });
    expect(serializer.deserialize(serializer.serialize(bare, 'x'))).toEqual({ a: 1 });
  });

  it('leaves out properties whose value is undefined, as JSON does', () => {
    expect(serializer.serialize({ a: 1, b: undefined }, 'x')).toBe('{"a":1}');
  });

  it('parses a prototype-polluting payload into an own property only', () => {
    const value = serializer.deserialize('{"__proto__":{"polluted":true}}') as object;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('session ids', () => {
  it('are 168 random bits in 28 URL-safe characters', () => {
    const ids = Array.from({ length: 1000 }, generateSessionId);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{28}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(21);
      expect(isValidSessionId(id)).toBe(true);
    }
  });

  it('reject anything not shaped like an id', () => {
    for (const value of ['', 'a'.repeat(27), 'a'.repeat(29), `${'a'.repeat(27)}*`, `${'a'.repeat(27)}=`, `${'a'.repeat(27)}{`, 1, null, undefined, {}, ['a'.repeat(28)]]) {
      expect(isValidSessionId(value)).toBe(false);
    }
  });
});
