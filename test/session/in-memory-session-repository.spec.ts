import { afterEach, describe, expect, it } from '@jest/globals';
import { InMemorySessionRepository, PRINCIPAL_NAME_INDEX_NAME, type SessionEvent } from 'nestjs-redis-session';
import { sleep } from './support/repositories.js';

/** In-memory only: expiry by timers (no read needed) and the events the Redis store also gives. */

const opened: InMemorySessionRepository[] = [];

function repository(interval: number) {
  const repo = new InMemorySessionRepository({ maxInactiveIntervalInSeconds: interval });
  const seen: SessionEvent[] = [];
  repo.events.subscribe((event) => seen.push(event));
  opened.push(repo);
  return { repo, seen };
}

afterEach(() => {
  for (const repo of opened.splice(0)) repo.close();
});

describe('InMemorySessionRepository', () => {
  it('reclaims expired sessions by timer, without any read', async () => {
    const { repo, seen } = repository(1);
    const idle = repo.createSession();
    idle.set(PRINCIPAL_NAME_INDEX_NAME, 'ida');
    await repo.save(idle);
    const kept = repo.createSession();
    kept.maxInactiveIntervalInSeconds = -1;
    kept.set('a', 1);
    await repo.save(kept);
    expect(repo.size).toBe(2);
    await sleep(1150);
    expect(repo.size).toBe(1);
    expect(seen).toContainEqual({ type: 'expired', sessionId: idle.id, principalName: 'ida' });
    expect(await repo.findByPrincipalName('ida')).toEqual([]);
  });

  it('a touch pushes the timer back', async () => {
    const { repo } = repository(1);
    const session = repo.createSession();
    session.set('a', 1);
    await repo.save(session);
    await sleep(600);
    expect(await repo.findById(session.id)).toBeDefined();
    await sleep(600);
    expect(repo.size).toBe(1);
    await sleep(550);
    expect(repo.size).toBe(0);
  });

  it('announces creation, deletion and expiry once each', async () => {
    const { repo, seen } = repository(1800);
    const session = repo.createSession();
    session.set(PRINCIPAL_NAME_INDEX_NAME, 'ann');
    await repo.save(session);
    session.set('b', 2);
    await repo.save(session);
    await repo.deleteById(session.id);
    await repo.deleteById(session.id);
    const ending = repo.createSession();
    ending.set('a', 1);
    await repo.save(ending);
    ending.maxInactiveIntervalInSeconds = 0;
    await repo.save(ending);
    const never = repo.createSession();
    never.maxInactiveIntervalInSeconds = 0;
    never.set('a', 1);
    await repo.save(never);
    await sleep(10);
    expect(seen).toEqual([
      { type: 'created', sessionId: session.id, principalName: 'ann' },
      { type: 'deleted', sessionId: session.id, principalName: 'ann' },
      { type: 'created', sessionId: ending.id },
      { type: 'expired', sessionId: ending.id },
    ]);
    expect(repo.size).toBe(0);
  });

  it('close() stops its timers', async () => {
    const { repo } = repository(1);
    const session = repo.createSession();
    session.set('a', 1);
    await repo.save(session);
    repo.close();
    await sleep(1100);
    expect(repo.size).toBe(1);
    expect(await repo.findById(session.id)).toBeUndefined();
  });
});
