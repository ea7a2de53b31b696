import { describe, expect, it } from '@jest/globals';
import {
  FlushMode, InMemorySessionRepository, JsonSessionSerializer, SaveMode, SessionAttributeError, SessionOptionsError,
  type InMemorySessionRepositoryOptions, type SessionEvent, type SessionSerializer,
} from 'nestjs-redis-session';
import { sleep } from './support/repositories.js';

/** InMemorySessionRepository built from the public API: its options, their defaults and checks, its events. */

function open(options?: InMemorySessionRepositoryOptions) {
  return new InMemorySessionRepository(options);
}

describe('new InMemorySessionRepository(options)', () => {
  it('defaults as the module: 1800 s, ON_SAVE, ON_SET_ATTRIBUTE, JSON, 1 MiB, a touch on every load', async () => {
    const repo = open();
    try {
      const session = repo.createSession();
      expect(session.maxInactiveIntervalInSeconds).toBe(1800);
      session.set('fits', 'x'.repeat(1024 * 1024 - 2)); // + 2 quotes
      expect(() => session.set('big', 'x'.repeat(1024 * 1024 - 1))).toThrow(SessionAttributeError);
      session.set('cart', { items: [1] });
      await session.flushed();
      expect(await repo.findById(session.id)).toBeUndefined(); // ON_SAVE: nothing before save()
      expect(await repo.save(session)).toBe(true);

      const loaded = (await repo.findById(session.id))!;
      (loaded.get('cart') as { items: number[] }).items.push(2);
      expect(loaded.hasChanges()).toBe(false); // ON_SET_ATTRIBUTE: a read is not a write

      await sleep(5);
      expect((await repo.findById(session.id))!.lastAccessedTime).toBeGreaterThan(loaded.lastAccessedTime); // touch interval 0
    } finally {
      repo.close();
    }
  });

  it('uses the options it is given', async () => {
    const written: string[] = [];
    const json = new JsonSessionSerializer();
    const serializer: SessionSerializer = {
      serialize: (value, name) => {
        written.push(name);
        return json.serialize(value, name);
      },
      deserialize: (text) => json.deserialize(text),
    };
    const repo = open({ maxInactiveIntervalInSeconds: -1, flushMode: FlushMode.IMMEDIATE, saveMode: SaveMode.ALWAYS, serializer, maxAttributeBytes: 10, touchIntervalSeconds: 60 });
    try {
      const session = repo.createSession();
      expect(session.maxInactiveIntervalInSeconds).toBe(-1);
      expect(() => session.set('long', 'x'.repeat(9))).toThrow(/maxAttributeBytes \(10\)/);
      session.set('a', 1);
      await session.flushed();
      const loaded = (await repo.findById(session.id))!; // IMMEDIATE: stored without save()
      expect(written).toContain('a');
      expect(loaded.hasChanges()).toBe(true); // ALWAYS
      await sleep(5);
      expect((await repo.findById(session.id))!.lastAccessedTime).toBe(loaded.lastAccessedTime); // within the touch interval
    } finally {
      repo.close();
    }
  });

  const bad: [string, unknown][] = [
    ['maxInactiveIntervalInSeconds', { maxInactiveIntervalInSeconds: 1.5 }],
    ['maxInactiveIntervalInSeconds', { maxInactiveIntervalInSeconds: '1800' }],
    ['flushMode', { flushMode: 'NOPE' }],
    ['saveMode', { saveMode: 'sometimes' }],
    ['serializer', { serializer: { serialize: JSON.stringify } }],
    ['maxAttributeBytes', { maxAttributeBytes: 0 }],
    ['maxAttributeBytes', { maxAttributeBytes: 1.5 }],
    ['touchIntervalSeconds', { touchIntervalSeconds: -1 }],
    ['touchIntervalSeconds', { touchIntervalSeconds: Infinity }],
    ['touchIntervalSeconds', { touchIntervalSeconds: NaN }],
    ['options', 1800],
    ['options', null],
  ];

  it.each(bad)('refuses a bad %s with a SessionOptionsError naming it', (option, options) => {
    expect(() => open(options as InMemorySessionRepositoryOptions)).toThrow(SessionOptionsError);
    expect(() => open(options as InMemorySessionRepositoryOptions)).toThrow(`invalid option "${option}"`);
  });

  it('refuses a misspelt option name, naming the nearest valid one', () => {
    expect(() => open({ maxInactiveInterval: 60 } as never)).toThrow(SessionOptionsError);
    expect(() => open({ maxInactiveInterval: 60 } as never)).toThrow('unknown option "maxInactiveInterval" (did you mean "maxInactiveIntervalInSeconds"?)');
    expect(() => open({ flushmode: 'IMMEDIATE' } as never)).toThrow('unknown option "flushmode" (did you mean "flushMode"?)');
  });

  it("takes flushMode and saveMode as the enums' strings", async () => {
    const repo = open({ flushMode: 'IMMEDIATE', saveMode: 'ALWAYS' });
    try {
      const session = repo.createSession();
      session.set('a', 1);
      await session.flushed();
      expect((await repo.findById(session.id))?.get('a')).toBe(1); // IMMEDIATE: written without save()
    } finally {
      repo.close();
    }
  });

  it('events: created, deleted and expired, then complete on close()', async () => {
    const repo = open({ maxInactiveIntervalInSeconds: 1 });
    const seen: SessionEvent[] = [];
    let completed = false;
    repo.events.subscribe({ next: (event) => seen.push(event), complete: () => (completed = true) });
    const deleted = repo.createSession();
    deleted.set('a', 1);
    await repo.save(deleted);
    await repo.deleteById(deleted.id);
    const expiring = repo.createSession();
    expiring.set('a', 1);
    await repo.save(expiring);
    await sleep(1150);
    expect(seen).toEqual([
      { type: 'created', sessionId: deleted.id },
      { type: 'deleted', sessionId: deleted.id },
      { type: 'created', sessionId: expiring.id },
      { type: 'expired', sessionId: expiring.id },
    ]);
    expect(completed).toBe(false);
    repo.close();
    expect(completed).toBe(true);
  });
});
