import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { InMemorySessionRepository, SessionEvents, SessionOptionsError, SessionRepository, type SessionEvent } from 'nestjs-redis-session';
import { AuditedSessionRepository } from '../session/support/audited-session-repository.js';
import { CookieClient } from './client.js';
import { sessionIdOf, startFixtureApp, type Platform } from './fixture-app.js';

/**
 * `store: <a SessionRepository>`: a user's own repository (built from the public API only) serves
 * the app's sessions, and its events reach SessionEvents. No Redis is involved: the `redis` option
 * names a port nothing listens on, so any use of it would fail the requests.
 */
const NO_REDIS = 'redis://127.0.0.1:1';

describe.each<Platform>(['express', 'fastify'])('a custom store on %s', (platform) => {
  let inner: InMemorySessionRepository;
  let store: AuditedSessionRepository;
  let app: INestApplication | undefined;
  let url: string;
  const seen: SessionEvent[] = [];
  let storeEventsCompleted = false;

  beforeAll(async () => {
    inner = new InMemorySessionRepository({ maxInactiveIntervalInSeconds: 600 });
    inner.events.subscribe({ complete: () => (storeEventsCompleted = true) });
    store = new AuditedSessionRepository(inner);
    ({ app, url } = await startFixtureApp(platform, { store, redis: NO_REDIS }));
    app.get(SessionEvents).subscribe((event) => seen.push(event));
  });

  afterAll(async () => {
    await app?.close();
    inner?.close();
  });

  it('logs in, reads /me and logs out through the custom store; its events reach SessionEvents', async () => {
    const client = new CookieClient(url);
    const login = await client.post('/login', { userId: 'carla' });
    expect(login.status).toBe(200);
    const id = sessionIdOf(client.cookies.get('SESSION')!);
    expect(id).toBe(login.body.id);
    // Made by the custom store, and kept by the store it wraps (under the id the login changed to).
    expect(store.callsTo('createSession')).toHaveLength(1);
    expect((await inner.findById(id, { touch: false }))?.get('userId')).toBe('carla');
    expect(seen).toContainEqual({ type: 'created', sessionId: id, principalName: 'carla' });

    const beforeMe = store.calls.length;
    expect(await client.get('/me')).toMatchObject({ status: 200, body: { userId: 'carla' } });
    expect(store.calls.slice(beforeMe)).toContainEqual({ method: 'findById', key: id });

    const beforeLogout = store.calls.length;
    expect((await client.post('/logout')).status).toBe(204);
    expect(client.cookies.has('SESSION')).toBe(false);
    expect(store.calls.slice(beforeLogout)).toContainEqual({ method: 'findById', key: id });
    // The deletion's event, emitted by the custom store (its `events`), reached the module's SessionEvents.
    expect(seen).toContainEqual({ type: 'deleted', sessionId: id, principalName: 'carla' });
    expect(await inner.findById(id, { touch: false })).toBeUndefined();
    expect(inner.size).toBe(0);

    client.cookies.set('SESSION', Buffer.from(id).toString('base64'));
    expect((await client.get('/me')).status).toBe(401);
  });

  it('SessionRepository is the custom store itself', () => {
    expect(app!.get(SessionRepository)).toBe(store);
  });

  /**
   * A known gap, not the behaviour wanted: a session is bound to the repository that constructed
   * it (here the wrapped InMemorySessionRepository), so the filter's commit (`session.save()`) and a
   * handler's `session.invalidate()` call that one and bypass the decorator given as `store`.
   * When the library routes them through the module's repository, this test fails: make it `it`.
   */
  it('the commit of a login and the deletion of logout go through the custom store too', async () => {
    const client = new CookieClient(url);
    await client.post('/login', { userId: 'dora' });
    const id = sessionIdOf(client.cookies.get('SESSION')!);
    await client.post('/logout');
    expect(store.calls).toEqual(expect.arrayContaining([{ method: 'save', key: id }, { method: 'deleteById', key: id }]));
  });

  it('app.close() leaves the given store to its owner: not closed, its events not completed', async () => {
    await app!.close();
    app = undefined;
    expect(storeEventsCompleted).toBe(false);
    const session = inner.createSession();
    session.set('after', 'close');
    expect(await inner.save(session)).toBe(true);
    inner.close();
    expect(storeEventsCompleted).toBe(true);
  });
});

describe.each<Platform>(['express', 'fastify'])('a store that is not a SessionRepository, on %s', (platform) => {
  const notRepositories: [string, unknown][] = [
    ['an empty object', {}],
    ['an unknown store name', 'mongo'],
    ['the class instead of an instance', InMemorySessionRepository],
    [
      'an object with the methods of one (not an instance of SessionRepository)',
      { createSession() {}, findById: async () => undefined, save: async () => true, deleteById: async () => {}, findByPrincipalName: async () => [] },
    ],
  ];

  it.each(notRepositories)('is refused at start-up with a SessionOptionsError naming store: %s', async (_label, value) => {
    const start = startFixtureApp(platform, { store: value as never, redis: NO_REDIS }, { logger: false });
    await expect(start).rejects.toBeInstanceOf(SessionOptionsError);
    await expect(start).rejects.toThrow('EnableRedisHttpSession: invalid option "store"');
  });
});
