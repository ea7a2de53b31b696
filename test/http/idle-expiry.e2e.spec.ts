import { describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from './client.js';
import { sessionIdOf, useFixtureApp, type Platform } from './fixture-app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
describe.each<Platform>(['express', 'fastify'])('idle expiry over HTTP on %s', (platform) => {
  const namespace = uniqueNamespace('idle');
  const fixture = useFixtureApp(platform, { redisNamespace: namespace, maxInactiveIntervalInSeconds: 2 });

  it('each request restarts the idle timer; a cookie unused for 3 s then yields a new session', async () => {
    const client = new CookieClient(fixture.url);
    await client.post('/login', { userId: 'idler' });
    const firstId = sessionIdOf(client.cookies.get('SESSION')!);

    // Used every 1.2 s, the session outlives its 2 s interval.
    for (let i = 0; i < 2; i++) {
      await sleep(1200);
      expect((await client.get('/peek')).body).toEqual({ exists: true, userId: 'idler' });
    }

    await sleep(3000);
    expect((await client.get('/peek')).body).toEqual({ exists: false, userId: null });
    expect(await fixture.redis.exists(`${namespace}:sessions:{${firstId}}`)).toBe(0);
    expect((await client.get('/me')).status).toBe(401);

    const fresh = await client.post('/set', { name: 'again', value: true });
    expect(fresh.body.id).not.toBe(firstId);
    expect(sessionIdOf(client.cookies.get('SESSION')!)).toBe(fresh.body.id);
    expect((await client.get('/peek')).body.exists).toBe(true);
  });
});
