import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { isValidSessionId } from 'nestjs-redis-session';
import { sharedRedisUrl, uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from '../http/client.js';
import { startSecurityApp, type SecurityApp } from './support/security-app.js';

/**
 * Session fixation: an attacker who makes a victim use a session id the attacker knows (planted
 * cookie or token) must not share the victim's logged-in session. The recipe: on login, changeId()
 * then set the user. Proven over HTTP: the planted id is dead once the victim has logged in.
 */

const base64 = (id: string) => Buffer.from(id, 'utf8').toString('base64');
const idOfCookie = (value: string) => Buffer.from(value, 'base64').toString('utf8');

describe.each(['express', 'fastify'] as const)('session fixation on %s', (platform) => {
  const namespace = uniqueNamespace('fixation');
  const key = (id: string) => `${namespace}:sessions:{${id}}`;
  let cookieApp: SecurityApp;
  let headerApp: SecurityApp;
  let redis: Redis;

  beforeAll(async () => {
    [cookieApp, headerApp] = await Promise.all([
      startSecurityApp({ redis: sharedRedisUrl(), redisNamespace: namespace }, { platform }),
      startSecurityApp({ redis: sharedRedisUrl(), redisNamespace: namespace, idResolver: 'header' }, { platform }),
    ]);
    redis = new Redis(sharedRedisUrl());
  });

  afterAll(async () => {
    await Promise.all([cookieApp.app.close(), headerApp.app.close()]);
    redis.disconnect();
  });

  /** The attacker's own session, with something in it, whose cookie is then planted in the victim's browser. */
  async function plantedCookie(): Promise<{ attacker: CookieClient; victim: CookieClient; plantedId: string }> {
    const attacker = new CookieClient(cookieApp.url);
    await attacker.post('/set', { name: 'cart', value: ['book'] });
    const planted = attacker.cookies.get('SESSION')!;
    const victim = new CookieClient(cookieApp.url);
    victim.cookies.set('SESSION', planted);
    return { attacker, victim, plantedId: idOfCookie(planted) };
  }

  it('cookie: login gives a new id; the planted id finds nothing, its key is gone, and the victim keeps the data under the new id', async () => {
    const { attacker, victim, plantedId } = await plantedCookie();
    const login = await victim.post('/login', { userId: 'victim' });
    const newId: string = login.body.id;
    expect(isValidSessionId(newId)).toBe(true);
    expect(newId).not.toBe(plantedId);
    expect(victim.lastSetCookies).toEqual([`SESSION=${base64(newId)}; Path=/; HttpOnly; SameSite=Lax`]);

    expect((await victim.get('/me')).body).toEqual({ userId: 'victim' });
    expect((await victim.get('/attributes')).body.attributes).toContainEqual(['cart', ['book']]);

    expect((await attacker.get('/me')).status).toBe(401);
    expect((await attacker.get('/attributes')).body).toEqual({ exists: false, attributes: [] });
    expect(await redis.exists(key(plantedId))).toBe(0);
    expect(await redis.exists(key(newId))).toBe(1);
    expect((await cookieApp.repository.findByPrincipalName('victim')).map((session) => session.id)).toEqual([newId]);
  });

  it('cookie: a request under the planted id, in flight while the victim logs in, neither writes into the new session nor revives the old id', async () => {
    const { attacker, victim, plantedId } = await plantedCookie();
    // The attacker's request loads the session and sets an attribute, then stalls until after the login.
    const stalled = attacker.post('/set', { name: 'injected', value: 'by the attacker', delayMs: 300 });
    while (cookieApp.activity.handlers === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const newId: string = (await victim.post('/login', { userId: 'victim2' })).body.id;
    expect((await stalled).status).toBe(200);
    await cookieApp.quiescent();

    expect(await redis.exists(key(plantedId))).toBe(0);
    expect((await victim.get('/attributes')).body.attributes.map(([name]: [string]) => name).sort()).toEqual(
      ['cart', 'org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME', 'userId'].sort(),
    );
    expect((await attacker.get('/attributes')).body.exists).toBe(false);
    expect(await redis.exists(key(newId))).toBe(1);
  });

  it('X-Auth-Token: login answers with a new token; the planted token finds nothing', async () => {
    const send = (path: string, token?: string, body?: unknown) =>
      fetch(headerApp.url + path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...(token ? { 'x-auth-token': token } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const planted = (await send('/set', undefined, { name: 'cart', value: 1 })).headers.get('x-auth-token')!;
    expect(isValidSessionId(planted)).toBe(true);
    const login = await send('/login', planted, { userId: 'api-victim' });
    const newToken = login.headers.get('x-auth-token')!;
    expect(isValidSessionId(newToken)).toBe(true);
    expect(newToken).not.toBe(planted);
    expect(await (await send('/me', newToken)).json()).toEqual({ userId: 'api-victim' });
    expect((await send('/me', planted)).status).toBe(401);
    expect(await redis.exists(key(planted))).toBe(0);
  });
});
