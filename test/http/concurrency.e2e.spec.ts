import { describe, expect, it } from '@jest/globals';
import { keysMatching, uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from './client.js';
import { sessionIdOf, useFixtureApp, type Platform } from './fixture-app.js';

describe.each<Platform>(['express', 'fastify'])('concurrent requests on one session on %s', (platform) => {
  const namespace = uniqueNamespace('concurrency');
  const fixture = useFixtureApp(platform, { redisNamespace: namespace });

  it('100 concurrent requests each setting its own attribute: all 100 are there afterwards', async () => {
    const client = new CookieClient(fixture.url);
    await client.post('/login', { userId: 'many' });
    const id = sessionIdOf(client.cookies.get('SESSION')!);

    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => client.post('/set', { name: `attr${i}`, value: i })));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect(new Set(responses.map((r) => r.body.id))).toEqual(new Set([id]));

    const stored = await fixture.redis.hgetall(`${namespace}:sessions:{${id}}`);
    for (let i = 0; i < 100; i++) expect(stored[`sessionAttr:attr${i}`]).toBe(String(i));
    const me = await client.get('/me');
    expect(me.body.attributes).toHaveLength(100 + 2); // plus userId and the principal name
  });

  it('a logout while a slow writing request is in flight: the session stays deleted and its cookie is not revived', async () => {
    const client = new CookieClient(fixture.url);
    await client.post('/login', { userId: 'racer' });
    const id = sessionIdOf(client.cookies.get('SESSION')!);
    const key = `${namespace}:sessions:{${id}}`;

    // The slow request loads the session and sets an attribute, then waits before it commits.
    const slow = new CookieClient(fixture.url);
    slow.cookies.set('SESSION', client.cookies.get('SESSION')!);
    const slowWrite = slow.post('/set', { name: 'late', value: 'write', delayMs: 400 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const logout = await client.post('/logout');
    expect(logout.status).toBe(204);
    expect(await fixture.redis.exists(key)).toBe(0);

    const late = await slowWrite;
    expect(late.status).toBe(200);
    expect(await fixture.redis.exists(key)).toBe(0);
    // The late response tells its client the session is over, rather than setting it again.
    expect(late.headers.getSetCookie()).toEqual([expect.stringMatching(/^SESSION=; Max-Age=0;/)]);
    expect(slow.cookies.has('SESSION')).toBe(false);
    expect((await slow.get('/peek')).body).toEqual({ exists: false, userId: null });
    expect((await client.get('/peek')).body).toEqual({ exists: false, userId: null });
    // Nothing else recreated it meanwhile (no partial hash, as in Spring #1111).
    expect(await keysMatching(fixture.redis, `${namespace}:sessions:{${id}}*`)).toEqual([]);
  });
});
