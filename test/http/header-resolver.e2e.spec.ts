import { describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '../harness/redis.js';
import { useFixtureApp, type Platform } from './fixture-app.js';

/** An API client without cookies: it keeps whatever X-Auth-Token the server last sent. */
class TokenClient {
  token: string | undefined;
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, body?: unknown) {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(this.token === undefined ? {} : { 'x-auth-token': this.token }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const sent = response.headers.get('x-auth-token');
    if (sent !== null) this.token = sent === '' ? undefined : sent;
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers, sentToken: sent };
  }
}

describe.each<Platform>(['express', 'fastify'])('X-Auth-Token header resolver on %s', (platform) => {
  const namespace = uniqueNamespace('header');
  const fixture = useFixtureApp(platform, { redisNamespace: namespace, idResolver: 'header' });

  it('the id comes back in X-Auth-Token on creation and on change, is used by later requests, and is sent empty on logout', async () => {
    const client = new TokenClient(fixture.url);
    const created = await client.request('POST', '/set', { name: 'cart', value: ['apple'] });
    expect(created.status).toBe(200);
    expect(created.sentToken).toBe(created.body.id);
    expect(created.headers.getSetCookie()).toEqual([]);

    // Reading does not resend the token.
    const read = await client.request('GET', '/peek');
    expect(read).toMatchObject({ status: 200, body: { exists: true }, sentToken: null });

    const login = await client.request('POST', '/login', { userId: 'api-user' });
    expect(login.sentToken).toBe(login.body.id);
    expect(login.body.id).not.toBe(created.body.id);
    expect(await fixture.redis.exists(`${namespace}:sessions:{${created.body.id}}`)).toBe(0);
    expect(await client.request('GET', '/me')).toMatchObject({ status: 200, body: { userId: 'api-user' } });

    const logout = await client.request('POST', '/logout');
    expect(logout.status).toBe(204);
    expect(logout.sentToken).toBe('');
    expect(await fixture.redis.exists(`${namespace}:sessions:{${login.body.id}}`)).toBe(0);
    expect(client.token).toBeUndefined();
    expect((await client.request('GET', '/me')).status).toBe(401);
  });

  it('a cookie is ignored when the header resolver is configured', async () => {
    const client = new TokenClient(fixture.url);
    await client.request('POST', '/login', { userId: 'cookie-ignored' });
    const cookie = Buffer.from(client.token!).toString('base64');
    const response = await fetch(fixture.url + '/peek', { headers: { cookie: `SESSION=${cookie}` } });
    expect(await response.json()).toEqual({ exists: false, userId: null });
  });

  it('a request without the header gets no token unless it writes', async () => {
    const client = new TokenClient(fixture.url);
    const response = await client.request('GET', '/plain');
    expect(response.sentToken).toBeNull();
    expect((await client.request('GET', '/me')).sentToken).toBeNull();
  });
});
