import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionRegistry } from 'nestjs-redis-session';
import { CookieClient } from '../http/client.js';
import { eventually } from '../harness/eventually.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { newClient, uniqueNamespace } from '../harness/redis.js';
import { startAccountApp, type AccountInstance } from './account-fixture-app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Redis that keeps its data (AOF) is stopped while sessions end: once it is back, their index entries go too. */
describe('The principal index after a Redis restart', () => {
  const namespace = uniqueNamespace('index-restart');
  const dir = mkdtempSync(join(tmpdir(), 'redis-aof-'));
  let server: RedisServer;
  let app: AccountInstance;
  let raw: Redis;

  beforeAll(async () => {
    server = await startRedisServer({ args: ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'] });
    app = await startAccountApp({ redis: server.url, redisNamespace: namespace, maxInactiveIntervalInSeconds: 2, sweepIntervalMs: 100, commandTimeoutMs: 500 });
    raw = newClient(server.url);
  });

  afterAll(async () => {
    await app?.app.close();
    raw?.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps no entry of a session that expired while Redis was down', async () => {
    const index = `${namespace}:index:org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME:vic`;
    for (let i = 0; i < 3; i++) expect((await new CookieClient(app.url).post('/login', { user: 'vic' })).status).toBe(200);
    expect(await raw.scard(index)).toBe(3); // the path under test starts with entries on file
    await raw.set(`${namespace}:marker`, 'kept');

    await server.stop();
    await sleep(2500); // every session's deadline passes while Redis is down
    await server.restart();
    expect(await eventually(() => raw.get(`${namespace}:marker`), 5000)).toBe('kept'); // the data came back: this is a restart, not a wipe

    await eventually(async () => {
      if ((await raw.exists(index)) !== 0) throw new Error(`index still holds ${await raw.smembers(index)}`);
    }, 10_000);
    expect(await raw.keys(`${namespace}:sessions:*`)).toEqual([]);
    expect(await app.app.get(SessionRegistry).getSessions('vic')).toEqual([]);
  }, 30_000);
});
