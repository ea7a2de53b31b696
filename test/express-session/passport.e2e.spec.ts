import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { CookieClient } from '../http/client.js';
import { sessionIdOf } from '../http/fixture-app.js';
import { keysMatching, sessionRedisClient, sessionRedisOption, uniqueNamespace, type SharedRedisClient } from '../harness/redis.js';
import { connectSocket, nextEvent } from '../websocket/socket-client.js';
import { startPassportApp } from './passport-app.js';

/** @nestjs/passport + passport-local with `session: true`, end to end over HTTP, on two instances. */
describe('Passport on our sessions (expressSessionApi)', () => {
  const namespace = uniqueNamespace('passport');
  let a: { app: INestApplication; url: string };
  let b: { app: INestApplication; url: string };
  let redis: SharedRedisClient;

  beforeAll(async () => {
    [a, b] = await Promise.all([startPassportApp({ redis: sessionRedisOption(), redisNamespace: namespace }), startPassportApp({ redis: sessionRedisOption(), redisNamespace: namespace })]);
    redis = sessionRedisClient();
  });

  afterAll(async () => {
    await Promise.all([a?.app.close(), b?.app.close()]);
    await redis?.quit();
  });

  it('logs in, serves a guarded route on either instance, and stores only the username', async () => {
    const user = new CookieClient(a.url);
    expect((await user.get('/profile')).status).toBe(403);
    expect((await user.post('/login', { username: 'ada', password: 'wrong' })).status).toBe(401);
    const login = await user.post('/login', { username: 'ada', password: 'lovelace' });
    expect(login.status).toBe(200);
    const id = sessionIdOf(user.cookies.get('SESSION')!);
    expect(login.body).toEqual({ user: { username: 'ada' }, sessionID: id });

    expect((await user.get('/profile')).body).toEqual({ user: { username: 'ada' } });
    const onB = new CookieClient(b.url);
    onB.cookies.set('SESSION', user.cookies.get('SESSION')!);
    expect((await onB.get('/profile')).body).toEqual({ user: { username: 'ada' } });
    // What Passport wrote, as our own @Session() and Redis see it.
    expect((await onB.get('/raw')).body).toEqual({ passport: { user: 'ada' } });
    expect(await redis.hget(`${namespace}:sessions:{${id}}`, 'sessionAttr:passport')).toBe('{"user":"ada"}');
  });

  it('gives a new id at login (session fixation): the id held before is worthless afterwards', async () => {
    const user = new CookieClient(a.url);
    expect((await user.post('/login', { username: 'alan', password: 'turing' })).status).toBe(200);
    const before = user.cookies.get('SESSION')!;
    expect((await user.post('/login', { username: 'ada', password: 'lovelace' })).status).toBe(200);
    const after = user.cookies.get('SESSION')!;
    expect(after).not.toBe(before);
    expect((await user.get('/profile')).body).toEqual({ user: { username: 'ada' } });
    const planted = new CookieClient(a.url);
    planted.cookies.set('SESSION', before);
    expect((await planted.get('/profile')).status).toBe(403);
    expect(await keysMatching(redis, `${namespace}:sessions:{${sessionIdOf(before)}}`)).toEqual([]);
  });

  it('logout on one instance ends the session everywhere and closes its sockets on the other instance', async () => {
    const user = new CookieClient(a.url);
    await user.post('/login', { username: 'ada', password: 'lovelace' });
    const cookie = `SESSION=${user.cookies.get('SESSION')}`;
    const socket = await connectSocket(b.url, { cookie });
    expect(await socket.emitWithAck('whoami')).toEqual({ passport: { user: 'ada' } });
    const destroyed = nextEvent(socket, 'session:destroyed', 5000);
    const disconnected = nextEvent<string>(socket, 'disconnect', 5000);

    expect((await user.post('/logout')).status).toBe(204);
    expect(await destroyed).toEqual({ reason: 'deleted' });
    expect(await disconnected).toBe('io server disconnect');
    expect((await user.get('/profile')).status).toBe(403);
    const stale = new CookieClient(b.url);
    stale.cookies.set('SESSION', cookie.slice('SESSION='.length));
    expect((await stale.get('/profile')).status).toBe(403);
  });
});
