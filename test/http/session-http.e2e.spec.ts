import { describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from './client.js';
import { useFixtureApp, type Platform } from './fixture-app.js';

describe.each<Platform>(['express', 'fastify'])('HTTP sessions on %s', (platform) => {
  const namespace = uniqueNamespace('http');
  const fixture = useFixtureApp(platform, { redisNamespace: namespace });

  it('login sets the SESSION cookie with Spring\'s flags; the next request sees the attributes; logout removes it', async () => {
    const client = new CookieClient(fixture.url);
    const login = await client.post('/login', { userId: 'alice' });
    expect(login.status).toBe(200);
    expect(client.lastSetCookies).toHaveLength(1);
    expect(client.lastSetCookies[0]).toMatch(/^SESSION=[A-Za-z0-9+/]{38}==; Path=\/; HttpOnly; SameSite=Lax$/);
    const me = await client.get('/me');
    expect(me).toMatchObject({ status: 200, body: { userId: 'alice' } });
    expect(await fixture.redis.exists(`${namespace}:sessions:{${login.body.id}}`)).toBe(1);

    const logout = await client.post('/logout');
    expect(logout.status).toBe(204);
    expect(client.lastSetCookies[0]).toMatch(/^SESSION=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(await fixture.redis.exists(`${namespace}:sessions:{${login.body.id}}`)).toBe(0);
    expect((await client.get('/me')).status).toBe(401);
  });

  it('a guard rejects requests without userId in the session', async () => {
    const client = new CookieClient(fixture.url);
    const response = await client.get('/me');
    expect(response.status).toBe(401);
    expect(client.lastSetCookies).toEqual([]);
  });

  it('an exception thrown after set() still persists the attribute, and the error response carries the cookie', async () => {
    const client = new CookieClient(fixture.url);
    const response = await client.post('/set-then-throw');
    expect(response.status).toBe(401);
    expect(client.lastSetCookies).toHaveLength(1);
    const peek = await client.get('/peek');
    expect(peek.body.exists).toBe(true);
  });

  it('a route that never touches the session sets no cookie', async () => {
    const client = new CookieClient(fixture.url);
    const response = await client.get('/plain');
    expect(response.status).toBe(200);
    expect(client.lastSetCookies).toEqual([]);
  });

  it('@Res() handlers get the cookie too', async () => {
    const client = new CookieClient(fixture.url);
    const response = await client.post('/raw');
    expect(response.body).toEqual({ raw: true });
    expect(client.lastSetCookies).toHaveLength(1);
  });

  it('@Res() handlers: the change is stored before the response arrives', async () => {
    const client = new CookieClient(fixture.url);
    await client.post('/raw');
    const id = Buffer.from(client.cookies.get('SESSION')!, 'base64').toString();
    expect(await fixture.redis.hget(`${namespace}:sessions:{${id}}`, 'sessionAttr:raw')).toBe('1');
  });

  it('a guard that writes to the session and then denies: the write is stored, and the denial carries the cookie', async () => {
    const client = new CookieClient(fixture.url);
    const first = await client.get('/denied');
    expect(first).toMatchObject({ status: 403, body: { message: 'Not for you' } });
    expect(client.lastSetCookies).toHaveLength(1);
    const id = Buffer.from(client.cookies.get('SESSION')!, 'base64').toString();
    expect(await fixture.redis.hget(`${namespace}:sessions:{${id}}`, 'sessionAttr:denials')).toBe('1');
    expect((await client.get('/denied')).status).toBe(403);
    expect(await fixture.redis.hget(`${namespace}:sessions:{${id}}`, 'sessionAttr:denials')).toBe('2');
  });

  it('changeId: the old cookie finds nothing, the new one has the data', async () => {
    const client = new CookieClient(fixture.url);
    await client.post('/set', { name: 'x', value: 1 });
    const oldCookie = client.cookies.get('SESSION')!;
    const changed = await client.post('/change-id');
    expect(client.cookies.get('SESSION')).not.toBe(oldCookie);
    expect((await client.get('/peek')).body.exists).toBe(true);
    const stale = new CookieClient(fixture.url);
    stale.cookies.set('SESSION', oldCookie);
    expect((await stale.get('/peek')).body.exists).toBe(false);
    expect(changed.status).toBe(200);
  });
});
