import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { freePort, startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from './client.js';
import { startFixtureApp, type Platform } from './fixture-app.js';

const COMMAND_TIMEOUT_MS = 500;
/** Time allowed beyond the command timeout for building the app. */
const SLACK_MS = 1000;
const PASSWORD = 'right-secret';

async function timed<T>(action: () => Promise<T>): Promise<{ outcome: PromiseSettledResult<T>; ms: number }> {
  const start = Date.now();
  const [outcome] = await Promise.allSettled([action()]);
  return { outcome, ms: Date.now() - start };
}

describe.each<Platform>(['express', 'fastify'])('requireRedisAtStartup on %s', (platform) => {
  let server: RedisServer;
  const apps: INestApplication[] = [];
  const start = (redis: string, requireRedisAtStartup?: boolean) =>
    startFixtureApp(platform, { redis, redisNamespace: uniqueNamespace('startup'), commandTimeoutMs: COMMAND_TIMEOUT_MS, requireRedisAtStartup }, { logger: false });

  beforeAll(async () => {
    server = await startRedisServer({ args: ['--requirepass', PASSWORD] });
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await server.stop();
  });

  /** The case, where the app is pointed, and what Redis (or the socket) said, which the error must pass on. */
  const unreachable: [string, () => Promise<{ url: string; address: string; reason: RegExp }>][] = [
    ['a port nothing listens on', async () => {
      const port = await freePort();
      return { url: `redis://:${PASSWORD}@127.0.0.1:${port}`, address: `127.0.0.1:${port}`, reason: /ECONNREFUSED/ };
    }],
    ['a wrong password', async () => ({ url: `redis://:wrong-secret@127.0.0.1:${server.port}`, address: `127.0.0.1:${server.port}`, reason: /WRONGPASS|invalid password/ })],
  ];

  it.each(unreachable)('with the option, %s fails start-up within about the command timeout, naming the address and no password', async (_case, target) => {
    const { url, address, reason } = await target();
    const { outcome, ms } = await timed(() => start(url, true));
    expect(outcome.status).toBe('rejected');
    const message = ((outcome as PromiseRejectedResult).reason as Error).message;
    expect(message).toContain(`Redis at ${address} is unreachable at start-up (requireRedisAtStartup)`);
    expect(message).toMatch(reason);
    expect(message).not.toMatch(/secret/);
    expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
  });

  it.each(unreachable)('without the option, %s still starts: plain routes work, session routes get 503', async (_case, target) => {
    const { url } = await target();
    const { app, url: base } = await start(url);
    apps.push(app);
    expect((await new CookieClient(base).get('/plain')).status).toBe(200);
    expect((await new CookieClient(base).post('/set', { name: 'a', value: 1 })).status).toBe(503);
  });

  it('with the option and the right password, starts and serves sessions', async () => {
    const { app, url: base } = await start(`redis://:${PASSWORD}@127.0.0.1:${server.port}`, true);
    apps.push(app);
    const client = new CookieClient(base);
    expect((await client.post('/set', { name: 'a', value: 1 })).status).toBeLessThan(300);
    expect((await client.get('/peek')).body.exists).toBe(true);
  });
});
