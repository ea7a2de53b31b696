import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  FlushMode,
  HttpSession,
  isValidSessionId,
  PRINCIPAL_NAME_INDEX_NAME,
  SaveMode,
  SessionAttributeError,
  SessionInvalidatedError,
  SessionLimitExceededError,
} from 'nestjs-redis-session';
import { sleep, type RepositoryImplementation } from './repositories.js';

/**
 * The SessionRepository contract: whatever a user observes through the repository and the
 * session must be the same on every implementation. Call inside a describe per implementation.
 */
export function repositoryContract(implementation: RepositoryImplementation): void {
  beforeAll(() => implementation.start?.(), 60_000);

  describe('create, save, find, delete', () => {
    it('stores a new session and finds it again with its attributes and times', async () => {
      const { repo } = implementation.open({ interval: 600 });
      const session = repo.createSession<{ user: { name: string }; count: number }>();
      expect(session.isNew).toBe(true);
      expect(isValidSessionId(session.id)).toBe(true);
      expect(session.maxInactiveIntervalInSeconds).toBe(600);
      session.set('user', { name: 'ada' });
      session.set('count', 3);
      expect(await repo.save(session)).toBe(true);
      expect(session.isNew).toBe(false);

      const loaded = await repo.findById<{ user: { name: string }; count: number }>(session.id);
      expect(loaded).toBeDefined();
      expect(loaded!.isNew).toBe(false);
      expect(loaded!.id).toBe(session.id);
      expect(loaded!.creationTime).toBe(session.creationTime);
      expect(loaded!.maxInactiveIntervalInSeconds).toBe(600);
      expect(loaded!.get('user')).toEqual({ name: 'ada' });
      expect(loaded!.get('count')).toBe(3);
      expect(loaded!.attributeNames().sort()).toEqual(['count', 'user']);
    });

    it('gives two sessions different ids', async () => {
      const { repo } = implementation.open();
      const ids = new Set(Array.from({ length: 100 }, () => repo.createSession().id));
      expect(ids.size).toBe(100);
    });

    it('deletes a session: it is found no more, and deleting it again is harmless', async () => {
      const { repo, holds } = implementation.open();
      const session = await stored(repo, { a: 1 });
      await repo.deleteById(session.id);
      expect(await repo.findById(session.id)).toBeUndefined();
      expect(await holds(session.id)).toBe(false);
      await expect(repo.deleteById(session.id)).resolves.toBeUndefined();
    });

    it('finds nothing for unknown or malformed ids, without failing', async () => {
      const { repo } = implementation.open();
      const hostile = ['', '*', 'a'.repeat(32), '../../etc/passwd', '{x}', 'x'.repeat(10_000), '%00', '\r\nFLUSHALL\r\n'];
      for (const id of hostile) expect(await repo.findById(id)).toBeUndefined();
      expect(await repo.findById(undefined as unknown as string)).toBeUndefined();
      expect(await repo.findById({} as unknown as string)).toBeUndefined();
      await expect(repo.deleteById('*')).resolves.toBeUndefined();
    });

    it('touches at most once per touch interval, so reads in between write nothing', async () => {
      const { repo } = implementation.open({ touchIntervalMs: 300 });
      const session = await stored(repo, { a: 1 });
      await sleep(50);
      expect((await repo.findById(session.id))!.lastAccessedTime).toBe(session.lastAccessedTime);
      await sleep(300);
      const touched = (await repo.findById(session.id))!;
      expect(touched.lastAccessedTime).toBeGreaterThanOrEqual(session.lastAccessedTime + 350);
      // The touch is stored: an untouching look (on the same connection, so after it) sees it.
      expect((await repo.findById(session.id, { touch: false }))!.lastAccessedTime).toBe(touched.lastAccessedTime);
    });

    it('touches a session in use before a third of its interval has passed, whatever the touch interval', async () => {
      const { repo, holds } = implementation.open({ touchIntervalMs: 60_000, interval: 1 });
      const session = await stored(repo, { a: 1 });
      // A load every 400 ms for 1.6 s: each is past a third of the 1 s interval, so each touches.
      for (let i = 0; i < 4; i++) {
        await sleep(400);
        expect(await repo.findById(session.id)).toBeDefined();
      }
      expect(await holds(session.id)).toBe(true);
    });

    it('touches on load unless asked not to', async () => {
      const { repo } = implementation.open();
      const session = await stored(repo, { a: 1 });
      await sleep(20);
      const untouched = await repo.findById(session.id, { touch: false });
      expect(untouched!.lastAccessedTime).toBe(session.lastAccessedTime);
      const touched = await repo.findById(session.id);
      expect(touched!.lastAccessedTime).toBeGreaterThanOrEqual(session.lastAccessedTime + 20);
      const again = await repo.findById(session.id, { touch: false });
      expect(again!.lastAccessedTime).toBe(touched!.lastAccessedTime);
    });

    it('removes an attribute set to undefined, and with remove()', async () => {
      const { repo } = implementation.open();
      const session = await stored(repo, { a: 1, b: 2, c: 3 });
      const loaded = (await repo.findById(session.id))!;
      loaded.set('a', undefined);
      loaded.remove('b');
      expect(loaded.attributeNames()).toEqual(['c']);
      expect(await repo.save(loaded)).toBe(true);
      const reloaded = (await repo.findById(session.id))!;
      expect(reloaded.attributeNames()).toEqual(['c']);
      expect(reloaded.get('a')).toBeUndefined();
      expect(reloaded.get('b')).toBeUndefined();
    });

    it('keeps changes of concurrent copies to different attributes, the interval included', async () => {
      const { repo, peer } = implementation.open();
      const session = await stored(repo, { a: 1 });
      const [first, second] = await Promise.all([repo.findById(session.id), peer.findById(session.id)]);
      first!.set('b', 2);
      second!.maxInactiveIntervalInSeconds = 900;
      second!.set('c', 3);
      expect(await peer.save(second!)).toBe(true);
      expect(await repo.save(first!)).toBe(true);
      const merged = (await repo.findById(session.id))!;
      expect(merged.attributeNames().sort()).toEqual(['a', 'b', 'c']);
      expect(merged.maxInactiveIntervalInSeconds).toBe(900);
    });

    it('does not revive a deleted session on save', async () => {
      const { repo, peer, holds } = implementation.open();
      const session = await stored(repo, { a: 1 });
      const copy = (await repo.findById(session.id))!;
      await peer.deleteById(session.id);
      copy.set('b', 2);
      expect(await repo.save(copy)).toBe(false);
      expect(await holds(session.id)).toBe(false);
      expect(copy.isInvalidated).toBe(true);
      expect(() => copy.set('c', 3)).toThrow(SessionInvalidatedError);
    });

    it('runs overlapping saves of one session object one after the other', async () => {
      const { repo, holds } = implementation.open();
      const session = repo.createSession();
      session.set('a', 1);
      const first = repo.save(session);
      session.set('b', 2);
      const second = repo.save(session);
      expect(await Promise.all([first, second, repo.save(session)])).toEqual([true, true, true]);
      expect(await holds(session.id)).toBe(true);
      expect((await repo.findById(session.id))!.attributeNames().sort()).toEqual(['a', 'b']);
    });

    it('invalidate() during a first save leaves nothing stored', async () => {
      const { repo, holds } = implementation.open();
      const session = repo.createSession();
      session.set('a', 1);
      const saving = repo.save(session);
      await session.invalidate();
      await saving;
      expect(await holds(session.id)).toBe(false);
      expect(await repo.save(session)).toBe(false);
      expect(await holds(session.id)).toBe(false);
    });

    it('invalidate() deletes the session and makes the object unusable', async () => {
      const { repo } = implementation.open();
      const session = await stored(repo, { a: 1 });
      await session.invalidate();
      expect(await repo.findById(session.id)).toBeUndefined();
      expect(await session.save()).toBe(false);
      expect(() => session.get('a')).toThrow(SessionInvalidatedError);
    });
  });

  describe('expiry', () => {
    it('keeps a session with a negative interval', async () => {
      const { repo } = implementation.open({ interval: -1 });
      const session = await stored(repo, { a: 1 });
      const loaded = await repo.findById(session.id);
      expect(loaded?.maxInactiveIntervalInSeconds).toBe(-1);
      expect(loaded?.isExpired).toBe(false);
    });

    it('keeps a long interval exactly, and refuses at once one that no store can keep', async () => {
      const { repo } = implementation.open();
      const session = await stored(repo, { a: 1 });
      const loaded = (await repo.findById(session.id))!;
      const tenYears = 10 * 365 * 24 * 3600;
      loaded.maxInactiveIntervalInSeconds = tenYears;
      expect(await repo.save(loaded)).toBe(true);
      expect((await repo.findById(session.id))!.maxInactiveIntervalInSeconds).toBe(tenYears);
      expect(() => (loaded.maxInactiveIntervalInSeconds = 1e12)).toThrow(RangeError);
      expect(() => (loaded.maxInactiveIntervalInSeconds = -1e12)).toThrow(RangeError);
      expect(loaded.hasChanges()).toBe(false);
    });

    it('never returns a session whose interval is zero', async () => {
      const { repo } = implementation.open({ interval: 0 });
      const fresh = repo.createSession();
      fresh.set('a', 1);
      // Expired at once: nothing is stored, so nothing is announced either.
      expect(await repo.save(fresh)).toBe(false);
      expect(await repo.findById(fresh.id)).toBeUndefined();

      const { repo: other } = implementation.open({ interval: 600 });
      const session = await stored(other, { a: 1 });
      const loaded = (await other.findById(session.id))!;
      loaded.maxInactiveIntervalInSeconds = 0;
      await other.save(loaded);
      expect(await other.findById(session.id)).toBeUndefined();
      expect(await other.findById(session.id, { touch: false })).toBeUndefined();
    });

    it('counts a new interval from the last access, not from the save that set it', async () => {
      const { repo, holds } = implementation.open();
      const session = await stored(repo, { a: 1 });
      await sleep(600);
      // As a socket message between throttled touches: loaded without a touch.
      const loaded = (await repo.findById(session.id, { touch: false }))!;
      loaded.maxInactiveIntervalInSeconds = 1;
      expect(await repo.save(loaded)).toBe(true);
      await sleep(session.lastAccessedTime + 1000 + 150 - Date.now());
      // Counted from the save, it would live 600 ms longer than every reader's deadline.
      expect(await holds(session.id)).toBe(false);
      expect(await repo.findById(session.id, { touch: false })).toBeUndefined();
    });

    it('touchById keeps a live session alive and answers its interval; undefined once it is gone', async () => {
      const { repo, holds } = implementation.open({ interval: 2 });
      const session = await stored(repo, { a: 1 });
      // A touch every 500 ms for 2.5 s: without them the session would have ended at 2 s.
      for (let i = 0; i < 5; i++) {
        await sleep(500);
        expect(await repo.touchById(session.id)).toBe(2);
      }
      expect(await holds(session.id)).toBe(true);
      expect((await repo.findById(session.id, { touch: false }))!.lastAccessedTime).toBeGreaterThanOrEqual(session.lastAccessedTime + 2500);
      await sleep(2200);
      expect(await repo.touchById(session.id)).toBeUndefined();
      expect(await holds(session.id)).toBe(false);

      const deleted = await stored(repo, { a: 1 });
      await repo.deleteById(deleted.id);
      expect(await repo.touchById(deleted.id)).toBeUndefined();
      expect(await repo.touchById(repo.createSession().id)).toBeUndefined();
      for (const id of ['', '*', '{x}', '\r\nFLUSHALL\r\n']) expect(await repo.touchById(id)).toBeUndefined();
    });

    it('expires an idle session after its interval, and a save does not bring it back', async () => {
      const { repo, holds } = implementation.open({ interval: 1 });
      const session = await stored(repo, { a: 1 });
      const copy = (await repo.findById(session.id))!;
      await sleep(1100);
      expect(await repo.findById(session.id)).toBeUndefined();
      copy.set('b', 2);
      expect(await repo.save(copy)).toBe(false);
      expect(await holds(session.id)).toBe(false);
    });
  });

  describe('concurrency', () => {
    it('keeps all 200 attributes set by 200 overlapping saves of separately loaded copies', async () => {
      const { repo, peer } = implementation.open();
      const session = await stored(repo, { base: true });
      const repos = [repo, peer];
      const copies = await Promise.all(Array.from({ length: 200 }, (_, i) => repos[i % 2].findById(session.id)));
      for (const [i, copy] of copies.entries()) copy!.set(`attr${i}`, i);
      const results = await Promise.all(copies.map((copy, i) => repos[i % 2].save(copy!)));
      expect(results.every(Boolean)).toBe(true);
      const merged = (await repo.findById(session.id))!;
      expect(merged.attributeNames()).toHaveLength(201);
      for (let i = 0; i < 200; i++) expect(merged.get(`attr${i}`)).toBe(i);
    });

    it('never leaves a session behind when a save races its deletion (500 runs)', async () => {
      const { repo, peer, holds } = implementation.open();
      const outcomes = { savedThenDeleted: 0, refused: 0 };
      for (let run = 0; run < 500; run++) {
        const session = await stored(repo, { run });
        // Untouched: a touch still queued on repo's connection would send the save ahead of the deletion every time.
        const copy = (await repo.findById(session.id, { touch: false }))!;
        copy.set('late', run);
        // Vary which call goes first, and by how much; on Redis they travel on two connections and race.
        const deleteLater = () => new Promise((resolve) => setImmediate(resolve)).then(() => peer.deleteById(session.id));
        let saved: boolean;
        if (run % 3 === 0) [saved] = await Promise.all([repo.save(copy), peer.deleteById(session.id)]);
        else if (run % 3 === 1) [, saved] = await Promise.all([peer.deleteById(session.id), repo.save(copy)]);
        else [saved] = await Promise.all([repo.save(copy), deleteLater()]);
        expect(await holds(session.id)).toBe(false);
        if (saved) outcomes.savedThenDeleted++;
        else {
          outcomes.refused++;
          expect(copy.isInvalidated).toBe(true);
        }
      }
      // Both orders happened, so both paths were checked.
      expect(outcomes.savedThenDeleted).toBeGreaterThan(0);
      expect(outcomes.refused).toBeGreaterThan(0);
    });

    it('refuses a save that was issued after the deletion on the same connection', async () => {
      const { repo } = implementation.open();
      for (let run = 0; run < 50; run++) {
        const session = await stored(repo, { run });
        const copy = (await repo.findById(session.id))!;
        copy.set('late', run);
        const deleted = repo.deleteById(session.id);
        const saved = repo.save(copy);
        await deleted;
        expect(await saved).toBe(false);
      }
    });
  });

  describe('changeId', () => {
    it('moves the whole session to the new id; the old id finds nothing', async () => {
      const { repo } = implementation.open();
      const attributes = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, { i }]));
      const session = await stored(repo, attributes);
      const oldId = session.id;
      const loaded = (await repo.findById(oldId))!;
      const newId = loaded.changeId();
      expect(newId).not.toBe(oldId);
      expect(isValidSessionId(newId)).toBe(true);
      expect(loaded.id).toBe(newId);
      expect(await repo.save(loaded)).toBe(true);
      expect(await repo.findById(oldId)).toBeUndefined();
      const moved = (await repo.findById(newId))!;
      expect(moved.creationTime).toBe(session.creationTime);
      expect(moved.attributeNames().sort()).toEqual(Object.keys(attributes).sort());
      for (const [name, value] of Object.entries(attributes)) expect(moved.get(name)).toEqual(value);
    });

    it('changes the id of a session with unsaved changes, keeping both', async () => {
      const { repo } = implementation.open();
      const session = await stored(repo, { a: 1 });
      const loaded = (await repo.findById(session.id))!;
      loaded.set('b', 2);
      loaded.remove('a');
      const newId = loaded.changeId();
      expect(await repo.save(loaded)).toBe(true);
      const moved = (await repo.findById(newId))!;
      expect(moved.attributeNames()).toEqual(['b']);
      // A second save writes nothing more and succeeds.
      expect(loaded.hasChanges()).toBe(false);
      expect(await loaded.save()).toBe(true);
    });

    it('lets concurrent loads see the full old session or the full new one, never a half, never neither', async () => {
      const { repo, peer } = implementation.open();
      const attributes = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
      const session = await stored(repo, attributes);
      const oldId = session.id;
      const loaded = (await repo.findById(oldId))!;
      const newId = loaded.changeId();

      const observations: { old: number | undefined; new: number | undefined }[] = [];
      let saveDone = false;
      let roundsAfterSave = 0;
      const watcher = (async () => {
        while (roundsAfterSave < 5 && observations.length < 10_000) {
          if (saveDone) roundsAfterSave++;
          // Yield to timers and I/O: the in-memory store answers without them and would starve the save.
          await new Promise((resolve) => setImmediate(resolve));
          // Old id first: with an atomic move, one of the two must resolve.
          const [before, after] = await Promise.all([peer.findById(oldId, { touch: false }), peer.findById(newId, { touch: false })]);
          observations.push({ old: before?.attributeNames().length, new: after?.attributeNames().length });
        }
      })();
      await sleep(5);
      expect(await repo.save(loaded)).toBe(true);
      saveDone = true;
      await watcher;

      expect(observations.length).toBeGreaterThan(5);
      for (const seen of observations) {
        expect(seen.old !== undefined || seen.new !== undefined).toBe(true);
        if (seen.old !== undefined) expect(seen.old).toBe(20);
        if (seen.new !== undefined) expect(seen.new).toBe(20);
      }
      expect(observations.at(-1)).toEqual({ old: undefined, new: 20 });
    });

    it('keeps what another copy saved since this one was loaded', async () => {
      const { repo, peer } = implementation.open();
      const session = await stored(repo, { a: 1, x: 1, gone: 1 });
      const [mover, other] = await Promise.all([repo.findById(session.id), peer.findById(session.id)]);
      other!.set('x', 2);
      other!.set('y', 2);
      other!.remove('gone');
      expect(await peer.save(other!)).toBe(true);
      mover!.set('a', 2);
      const newId = mover!.changeId();
      expect(await repo.save(mover!)).toBe(true);
      const moved = (await repo.findById(newId))!;
      expect(Object.fromEntries(moved.attributeNames().sort().map((name) => [name, moved.get(name)]))).toEqual({ a: 2, x: 2, y: 2 });
    });

    it('refuses the save of a stale copy under the old id (no resurrection of the old id)', async () => {
      const { repo, peer, holds } = implementation.open();
      const session = await stored(repo, { a: 1 });
      const stale = (await peer.findById(session.id))!;
      const loaded = (await repo.findById(session.id))!;
      loaded.changeId();
      expect(await repo.save(loaded)).toBe(true);
      stale.set('b', 2);
      expect(await peer.save(stale)).toBe(false);
      expect(await holds(session.id)).toBe(false);
      expect((await repo.findById(loaded.id))!.attributeNames()).toEqual(['a']);
    });
  });

  describe('attribute values', () => {
    const refused: [string, unknown][] = [
      ['a function', () => 1],
      ['a symbol', Symbol('s')],
      ['a BigInt', 10n],
      ['a Date', new Date()],
      ['NaN', NaN],
      ['Infinity', -Infinity],
      ['a Map', new Map([[1, 2]])],
      ['a class instance', new (class Point { x = 1 })()],
      ['a nested function', { a: { b: [1, () => 2] } }],
      // biome-ignore lint/suspicious/noSparseArray: the hole is the case under test
      ['a hole in an array', [1, , 3]],
      ['undefined in an array', [1, undefined]],
    ];

    it.each(refused)('refuses %s at set(), leaving the session unchanged', async (_label, value) => {
      const { repo } = implementation.open();
      const session = repo.createSession();
      session.set('kept', 1);
      expect(() => session.set('bad', value)).toThrow(SessionAttributeError);
      expect(() => session.set('kept', value)).toThrow(/Session attribute "kept" cannot be stored/);
      expect(session.attributeNames()).toEqual(['kept']);
      expect(session.get('kept')).toBe(1);
    });

    it('refuses a cyclic object at set()', async () => {
      const { repo } = implementation.open();
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = { back: cyclic };
      const session = repo.createSession();
      expect(() => session.set('cyclic', cyclic)).toThrow(SessionAttributeError);
      expect(() => session.set('cyclic', cyclic)).toThrow(/cyclic/);
    });

    it('round-trips JSON-safe values exactly', async () => {
      const { repo } = implementation.open();
      const values: Record<string, unknown> = {
        string: 'héllo "wörld" \n\t\\ \u0000 😀 𝄞',
        empty: '',
        zero: 0,
        negative: -12.5,
        big: Number.MAX_SAFE_INTEGER,
        tiny: 5e-324,
        yes: true,
        no: false,
        nothing: null,
        list: [1, 'two', [3], { four: 4 }, null],
        nested: { a: { b: { c: [true, false] } }, 'key with spaces': 1, 'üñí': 2, '': 'empty key' },
        emptyObject: {},
        emptyList: [],
        shared: (() => {
          const twice = { x: 1 };
          return { left: twice, right: twice }; // shared, not cyclic: allowed
        })(),
      };
      const session = await stored(repo, values);
      const loaded = (await repo.findById(session.id))!;
      for (const [name, value] of Object.entries(values)) expect(loaded.get(name)).toStrictEqual(value);
    });

    it('stores an attribute named __proto__ as a plain attribute, without touching any prototype', async () => {
      const { repo } = implementation.open();
      const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
      const payload = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}');
      const session = repo.createSession();
      session.set('__proto__', payload);
      session.set('constructor', 'c');
      session.set('hasOwnProperty', 'h');
      expect(await repo.save(session)).toBe(true);
      const loaded = (await repo.findById(session.id))!;
      expect(loaded.attributeNames().sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
      const value = loaded.get('__proto__') as Record<string, unknown>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.getOwnPropertyNames(value).sort()).toEqual(['__proto__', 'constructor']);
      expect(JSON.stringify(value)).toBe(JSON.stringify(payload));
      expect(loaded.get('constructor')).toBe('c');
      expect(loaded.get('hasOwnProperty')).toBe('h');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
      loaded.remove('__proto__');
      expect(await repo.save(loaded)).toBe(true);
      expect((await repo.findById(session.id))!.attributeNames().sort()).toEqual(['constructor', 'hasOwnProperty']);
    });

    it('refuses values over maxAttributeBytes at set(), counting UTF-8 bytes', async () => {
      const { repo } = implementation.open({ maxAttributeBytes: 100 });
      const session = repo.createSession();
      session.set('fits', 'x'.repeat(98)); // 98 characters + 2 quotes
      expect(() => session.set('big', 'x'.repeat(99))).toThrow(SessionAttributeError);
      expect(() => session.set('big', 'é'.repeat(50))).toThrow(/maxAttributeBytes/); // 100 bytes + quotes
      expect(() => session.set('big', { list: Array.from({ length: 50 }, (_, i) => i) })).toThrow(SessionAttributeError);
      expect(session.attributeNames()).toEqual(['fits']);
      expect(await repo.save(session)).toBe(true);
      expect((await repo.findById(session.id))!.get('fits')).toBe('x'.repeat(98));
    });

    it('refuses an empty attribute name', () => {
      const { repo } = implementation.open();
      expect(() => repo.createSession().set('' as string, 1)).toThrow(SessionAttributeError);
    });
  });

  describe('save modes', () => {
    it('ON_SET_ATTRIBUTE: writes only attributes that were set; a read-and-mutated object is not written', async () => {
      const { repo, peer } = implementation.open({ saveMode: SaveMode.ON_SET_ATTRIBUTE });
      const session = await stored(repo, { cart: { items: [1] }, other: 'original' });
      const [copy, rival] = await Promise.all([repo.findById(session.id), peer.findById(session.id)]);
      rival!.set('other', 'changed elsewhere');
      expect(await peer.save(rival!)).toBe(true);
      (copy!.get('cart') as { items: number[] }).items.push(2);
      copy!.get('other');
      expect(copy!.hasChanges()).toBe(false);
      copy!.set('touched', true);
      expect(await repo.save(copy!)).toBe(true);
      const loaded = (await repo.findById(session.id))!;
      expect(loaded.get('cart')).toEqual({ items: [1] });
      expect(loaded.get('other')).toBe('changed elsewhere');
    });

    it('ON_GET_ATTRIBUTE: writes back attributes that were read, so in-place mutations persist', async () => {
      const { repo, peer } = implementation.open({ saveMode: SaveMode.ON_GET_ATTRIBUTE });
      const session = await stored(repo, { cart: { items: [1] }, other: 'original', unread: 'original' });
      const [copy, rival] = await Promise.all([repo.findById(session.id), peer.findById(session.id)]);
      rival!.set('unread', 'changed elsewhere');
      expect(await peer.save(rival!)).toBe(true);
      expect(copy!.hasChanges()).toBe(false);
      (copy!.get('cart') as { items: number[] }).items.push(2);
      expect(copy!.hasChanges()).toBe(true);
      expect(await repo.save(copy!)).toBe(true);
      const loaded = (await repo.findById(session.id))!;
      expect(loaded.get('cart')).toEqual({ items: [1, 2] });
      // Attributes never read are not written back.
      expect(loaded.get('unread')).toBe('changed elsewhere');
    });

    it('ALWAYS: writes every attribute on every save', async () => {
      const { repo, peer } = implementation.open({ saveMode: SaveMode.ALWAYS });
      const session = await stored(repo, { cart: { items: [1] }, other: 'original' });
      const [copy, rival] = await Promise.all([repo.findById(session.id), peer.findById(session.id)]);
      rival!.set('other', 'changed elsewhere');
      expect(await peer.save(rival!)).toBe(true);
      expect(copy!.hasChanges()).toBe(true);
      (copy!.get('cart') as { items: number[] }).items.push(2);
      expect(await repo.save(copy!)).toBe(true);
      const loaded = (await repo.findById(session.id))!;
      expect(loaded.get('cart')).toEqual({ items: [1, 2] });
      expect(loaded.get('other')).toBe('original');
    });
  });

  describe('flush modes', () => {
    it('IMMEDIATE: each set and remove is visible to another load before save()', async () => {
      const { repo, peer } = implementation.open({ flushMode: FlushMode.IMMEDIATE });
      const session = repo.createSession();
      session.set('a', 1);
      await session.flushed();
      expect((await peer.findById(session.id))?.get('a')).toBe(1);
      session.set('b', 2);
      session.remove('a');
      await session.flushed();
      const seen = (await peer.findById(session.id))!;
      expect(seen.attributeNames()).toEqual(['b']);
      session.maxInactiveIntervalInSeconds = 120;
      await session.flushed();
      expect((await peer.findById(session.id))!.maxInactiveIntervalInSeconds).toBe(120);
      expect(session.hasChanges()).toBe(false);
      expect(await session.save()).toBe(true);
    });

    it('IMMEDIATE: a change to a loaded session is written without save()', async () => {
      const { repo, peer } = implementation.open({ flushMode: FlushMode.IMMEDIATE });
      const session = await stored(repo, { a: 1 });
      await session.flushed();
      const loaded = (await repo.findById(session.id))!;
      loaded.set('a', 2);
      await loaded.flushed();
      expect((await peer.findById(session.id))!.get('a')).toBe(2);
    });

    it('ON_SAVE: nothing is written before save()', async () => {
      const { repo, peer } = implementation.open({ flushMode: FlushMode.ON_SAVE });
      const session = await stored(repo, { a: 1 });
      const loaded = (await repo.findById(session.id))!;
      loaded.set('a', 2);
      await loaded.flushed();
      await sleep(10);
      expect((await peer.findById(session.id))!.get('a')).toBe(1);
      expect(await loaded.save()).toBe(true);
      expect((await peer.findById(session.id))!.get('a')).toBe(2);
    });
  });

  describe('principal index', () => {
    it('finds and deletes the sessions of one principal only', async () => {
      const { repo } = implementation.open();
      const alice1 = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'alice', n: 1 });
      const alice2 = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'alice', n: 2 });
      const bob = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'bob' });
      const found = await repo.findByPrincipalName('alice');
      expect(found.map((session) => session.id).sort()).toEqual([alice1.id, alice2.id].sort());
      expect(found.map((session) => session.get('n')).sort()).toEqual([1, 2]);
      expect(await repo.findByPrincipalName('carol')).toEqual([]);

      expect(await repo.deleteByPrincipalName('alice')).toBe(2);
      expect(await repo.findById(alice1.id)).toBeUndefined();
      expect(await repo.findById(alice2.id)).toBeUndefined();
      expect(await repo.findByPrincipalName('alice')).toEqual([]);
      expect((await repo.findByPrincipalName('bob')).map((session) => session.id)).toEqual([bob.id]);
    });

    it('never gives a session to a principal it no longer belongs to (two copies changed it in turn)', async () => {
      const { repo, peer } = implementation.open();
      const session = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'amy' });
      const [first, second] = await Promise.all([repo.findById(session.id), peer.findById(session.id)]);
      first!.set(PRINCIPAL_NAME_INDEX_NAME, 'ben');
      expect(await repo.save(first!)).toBe(true);
      second!.set(PRINCIPAL_NAME_INDEX_NAME, 'cat');
      expect(await peer.save(second!)).toBe(true);
      expect((await repo.findById(session.id))!.get(PRINCIPAL_NAME_INDEX_NAME)).toBe('cat');
      expect(await repo.findByPrincipalName('ben')).toEqual([]);
      expect(await repo.deleteByPrincipalName('ben')).toBe(0);
      expect((await repo.findByPrincipalName('cat')).map((found) => found.id)).toEqual([session.id]);
      expect(await repo.findByPrincipalName('amy')).toEqual([]);
    });

    it('follows changes of the principal, of the id, and deletion', async () => {
      const { repo } = implementation.open();
      const session = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'dave' });
      const loaded = (await repo.findById(session.id))!;
      loaded.set(PRINCIPAL_NAME_INDEX_NAME, 'erin');
      expect(await repo.save(loaded)).toBe(true);
      expect(await repo.findByPrincipalName('dave')).toEqual([]);
      expect((await repo.findByPrincipalName('erin')).map((s) => s.id)).toEqual([session.id]);

      const newId = loaded.changeId();
      expect(await repo.save(loaded)).toBe(true);
      expect((await repo.findByPrincipalName('erin')).map((s) => s.id)).toEqual([newId]);

      loaded.remove(PRINCIPAL_NAME_INDEX_NAME);
      expect(await repo.save(loaded)).toBe(true);
      expect(await repo.findByPrincipalName('erin')).toEqual([]);

      loaded.set(PRINCIPAL_NAME_INDEX_NAME, 'frank');
      expect(await repo.save(loaded)).toBe(true);
      await repo.deleteById(newId);
      expect(await repo.findByPrincipalName('frank')).toEqual([]);
    });
  });

  describe('account metadata, remember me and the absolute lifetime', () => {
    it('keeps the client recorded at creation, and the one recorded at a change of id, without counting it as a change', async () => {
      const { repo } = implementation.open();
      const fresh = repo.createSession();
      fresh.recordClient('Browser/1', '192.0.2.1');
      expect(fresh.hasChanges()).toBe(false); // a new session is stored for its data, not for its metadata
      fresh.set('a', 1);
      expect(await repo.save(fresh)).toBe(true);
      const loaded = (await repo.findById(fresh.id))!;
      expect([loaded.userAgent, loaded.ip]).toEqual(['Browser/1', '192.0.2.1']);

      loaded.changeId();
      loaded.recordClient('Browser/2', '2001:db8::1');
      expect(await repo.save(loaded)).toBe(true);
      const moved = (await repo.findById(loaded.id))!;
      expect([moved.userAgent, moved.ip]).toEqual(['Browser/2', '2001:db8::1']);
      expect(moved.attributeNames()).toEqual(['a']); // metadata never shows as attributes

      moved.changeId(); // without a new record (a store's own rename): the metadata moves along
      expect(await repo.save(moved)).toBe(true);
      expect((await repo.findById(moved.id))!.userAgent).toBe('Browser/2');
    });

    it('remembers rememberMe() with its own interval, across a change of id', async () => {
      const { repo } = implementation.open({ interval: 600 });
      const session = await stored(repo, { a: 1 });
      expect(session.isRemembered).toBe(false);
      const loaded = (await repo.findById(session.id))!;
      loaded.changeId();
      loaded.rememberMe(7 * 24 * 3600);
      expect(await repo.save(loaded)).toBe(true);
      const again = (await repo.findById(loaded.id))!;
      expect(again.isRemembered).toBe(true);
      expect(again.maxInactiveIntervalInSeconds).toBe(7 * 24 * 3600);
      expect(() => again.rememberMe(0)).toThrow(RangeError);
      expect(() => again.rememberMe(1.5)).toThrow(RangeError);
    });

    it('ends a session at creation + maxSessionLifetimeSeconds however often it is used, and says so in expiresAt', async () => {
      const { repo, holds } = implementation.open({ interval: 600, maxSessionLifetimeSeconds: 2 });
      const session = await stored(repo, { a: 1 });
      expect(session.expiresAt).toBe(session.creationTime + 2000);
      const copy = (await repo.findById(session.id))!;
      copy.changeId();
      expect(await repo.save(copy)).toBe(true);
      while (Date.now() < session.creationTime + 1800) {
        const used = await repo.findById(copy.id); // touches (touch interval 0)
        expect(used?.creationTime).toBe(session.creationTime);
        await sleep(100);
      }
      await sleep(session.creationTime + 2100 - Date.now());
      expect(await repo.findById(copy.id)).toBeUndefined();
      copy.set('b', 2);
      expect(await repo.save(copy)).toBe(false);
      await sleep(50);
      expect(await holds(copy.id)).toBe(false);
    });

    it("maximumSessions 'reject': a login beyond max fails with SessionLimitExceededError and writes nothing", async () => {
      const { repo, holds } = implementation.open({ maximumSessions: { max: 2, whenExceeded: 'reject' } });
      await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'lee' });
      const second = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'lee' });
      const anonymous = await stored(repo, { cart: ['pen'] });
      const login = (await repo.findById(anonymous.id))!;
      const oldId = login.id;
      login.changeId();
      login.set(PRINCIPAL_NAME_INDEX_NAME, 'lee');
      await expect(repo.save(login)).rejects.toBeInstanceOf(SessionLimitExceededError);
      expect((await repo.findById(oldId))?.get('cart')).toEqual(['pen']); // untouched, under its old id
      expect(await holds(login.id)).toBe(false);
      expect(await repo.findByPrincipalName('lee')).toHaveLength(2);
      // Logging in again on a session of the same user is no new session: allowed.
      const again = (await repo.findById(second.id))!;
      again.changeId();
      again.set(PRINCIPAL_NAME_INDEX_NAME, 'lee');
      expect(await repo.save(again)).toBe(true);
      expect(await repo.findByPrincipalName('lee')).toHaveLength(2);
    });

    it("maximumSessions 'expire-oldest': a login beyond max ends the least recently used sessions", async () => {
      const { repo } = implementation.open({ maximumSessions: { max: 2, whenExceeded: 'expire-oldest' } });
      const oldest = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'max' });
      await sleep(5);
      const middle = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'max' });
      await sleep(5);
      await repo.findById(oldest.id); // used again (touch interval 0): the middle one is now the least recent
      const newest = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'max' });
      expect((await repo.findByPrincipalName('max')).map((s) => s.id).sort()).toEqual([oldest.id, newest.id].sort());
      expect(await repo.findById(middle.id)).toBeUndefined();
      const other = await stored(repo, { [PRINCIPAL_NAME_INDEX_NAME]: 'someone-else' });
      expect(await repo.findById(other.id)).toBeDefined(); // other users' sessions never count
    });

    it('gives no lifetime by default: expiresAt follows the idle interval, null when there is none', async () => {
      const { repo } = implementation.open({ interval: 600 });
      const session = await stored(repo, { a: 1 });
      expect(session.expiresAt).toBe(session.lastAccessedTime + 600_000);
      const { repo: forever } = implementation.open({ interval: -1 });
      expect((await stored(forever, { a: 1 })).expiresAt).toBeNull();
      const { repo: capped } = implementation.open({ interval: -1, maxSessionLifetimeSeconds: 60 });
      const kept = await stored(capped, { a: 1 });
      expect(kept.expiresAt).toBe(kept.creationTime + 60_000);
      expect((await capped.findById(kept.id))?.expiresAt).toBe(kept.creationTime + 60_000);
    });
  });
}

/** A stored session with the given attributes, and its id. */
async function stored(repo: { createSession(): HttpSession; save(session: HttpSession): Promise<boolean> }, attributes: Record<string, unknown>) {
  const session = repo.createSession();
  for (const [name, value] of Object.entries(attributes)) session.set(name, value);
  expect(await repo.save(session)).toBe(true);
  return session;
}

