import { afterAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { eventually } from '../harness/eventually.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from '../http/client.js';
import { startFixtureApp } from '../http/fixture-app.js';
import { startWsFixtureApp } from '../websocket/fixture-app.js';
import { RecordingLogger } from '../websocket/recording-logger.js';
import { connectSocket } from '../websocket/socket-client.js';

/** Redis short of memory, or ready to evict any key: what operators get told, and what users see. */
describe('Redis maxmemory-policy', () => {
  const servers: RedisServer[] = [];
  const apps: INestApplication[] = [];

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await Promise.all(servers.map((server) => server.stop()));
  });

  async function appOn(args: string[]): Promise<{ url: string; logger: RecordingLogger; server: RedisServer }> {
    const server = await startRedisServer({ args });
    servers.push(server);
    const logger = new RecordingLogger();
    const { app, url } = await startFixtureApp('express', { redis: server.url, redisNamespace: uniqueNamespace('evict') }, { logger });
    apps.push(app);
    return { url, logger, server };
  }

  it('warns once at start-up when the policy may evict session keys (allkeys-*)', async () => {
    const { logger } = await appOn(['--maxmemory-policy', 'allkeys-lru']);
    const warning = await eventually(() => {
      const found = logger.warnings.find((line) => line.includes('maxmemory-policy allkeys-lru'));
      if (!found) throw new Error('no eviction warning yet');
      return found;
    });
    expect(warning).toMatch(/may evict session keys, signing users out at random/);
    expect(logger.warnings.filter((line) => line.includes('maxmemory-policy'))).toHaveLength(1);
  });

  it('says nothing with noeviction or volatile-*', async () => {
    for (const policy of ['noeviction', 'volatile-lru']) {
      const { logger } = await appOn(['--maxmemory-policy', policy]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(logger.warnings.filter((line) => line.includes('maxmemory-policy'))).toEqual([]);
    }
  });

  it('out of memory with noeviction: writes fail as 503, reads of existing sessions keep working, nothing crashes', async () => {
    const { url, server } = await appOn(['--maxmemory-policy', 'noeviction']);
    const user = new CookieClient(url);
    expect((await user.post('/login', { userId: 'ada' })).status).toBe(200);
    const filler = new Redis(server.url);
    try {
      // Out of memory: the limit put just under what Redis uses now (as a full Redis would be).
      const used = Number(/used_memory:(\d+)/.exec(await filler.info('memory'))![1]);
      await filler.config('SET', 'maxmemory', String(used - 64 * 1024));
      expect(await filler.set('probe', 'x').catch((error: Error) => error.message)).toMatch(/OOM/);
      const write = await user.post('/set', { name: 'cart', value: ['book'] });
      expect(write.status).toBe(503);
      expect(write.body).toMatchObject({ statusCode: 503, message: expect.stringContaining('session store is unavailable') });
      expect((await user.get('/me')).body).toMatchObject({ userId: 'ada' });
      const newcomer = await new CookieClient(url).post('/login', { userId: 'grace' });
      expect(newcomer.status).toBe(503);
    } finally {
      filler.disconnect();
    }
  });

  it('out of memory with volatile-lru: writes go on by evicting sessions, whose users are signed out cleanly and whose sockets close as expired', async () => {
    const server = await startRedisServer({ args: ['--maxmemory-policy', 'volatile-lru', '--notify-keyspace-events', 'Egx'] });
    servers.push(server);
    const namespace = uniqueNamespace('evict');
    const { app, url } = await startWsFixtureApp({ redis: server.url, redisNamespace: namespace, maxInactiveIntervalInSeconds: 4 });
    apps.push(app);
    // 16 sessions of 16 KB each: room for a few to be evicted while the rest stay.
    const users = Array.from({ length: 16 }, () => new CookieClient(url));
    for (const [i, user] of users.entries()) {
      expect((await user.post('/login', { userId: `user-${i}` })).status).toBe(200);
      expect((await user.post('/set', { name: 'notes', value: 'x'.repeat(16 * 1024) })).status).toBe(200);
    }
    const sockets = await Promise.all(users.map((user) => connectSocket(url, { cookie: `SESSION=${user.cookies.get('SESSION')}` })));
    const endings = new Map<number, string>();
    for (const [i, socket] of sockets.entries()) socket.on('session:destroyed', ({ reason }: { reason: string }) => void endings.set(i, reason));
    const raw = new Redis(server.url);
    try {
      const keyOf = (user: CookieClient) => `${namespace}:sessions:{${Buffer.from(user.cookies.get('SESSION')!, 'base64').toString('utf8')}}`;
      const used = Number(/used_memory:(\d+)/.exec(await raw.info('memory'))![1]);
      await raw.config('SET', 'maxmemory', String(used - 40 * 1024));
      // A login needs room: Redis makes it by evicting sessions (each has a TTL), so it succeeds.
      expect((await new CookieClient(url).post('/login', { userId: 'newcomer' })).status).toBe(200);
      const present = await Promise.all(users.map(async (user) => (await raw.exists(keyOf(user))) === 1));
      const evicted = users.filter((_, i) => !present[i]);
      expect(Number(/evicted_keys:(\d+)/.exec(await raw.info('stats'))![1])).toBeGreaterThan(0);
      expect(evicted.length).toBeGreaterThan(0);
      expect(evicted.length).toBeLessThan(users.length);
      // Signed out, not broken: the next request finds no session (no 500), the others keep theirs.
      for (const user of evicted) expect((await user.get('/get')).body).toMatchObject({ exists: false });
      const kept = users.filter((_, i) => present[i]);
      expect((await kept[0].get('/get')).body).toMatchObject({ exists: true, attributes: { userId: expect.any(String) } });
      // Redis says nothing of an eviction ('evicted' is no expiry): the sweeper reports it when the deadline comes.
      const evictedIndexes = users.map((_, i) => i).filter((i) => !present[i]);
      await eventually(() => expect(evictedIndexes.map((i) => endings.get(i))).toEqual(evictedIndexes.map(() => 'expired')), 15_000);
    } finally {
      raw.disconnect();
      for (const socket of sockets) socket.close();
    }
  });
});
