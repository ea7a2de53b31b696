import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { eventually } from '../harness/eventually.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { RecordingLogger } from '../websocket/recording-logger.js';
import { CookieClient } from './client.js';
import { startFixtureApp } from './fixture-app.js';

const RESTORED = 'Redis connection restored';

describe('the log line when Redis comes back', () => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;
  const logger = new RecordingLogger();
  const restoredLines = () => logger.logs.filter((line) => line.includes(RESTORED));

  beforeAll(async () => {
    server = await startRedisServer();
    ({ app, url } = await startFixtureApp('express', { redis: server.url, redisNamespace: uniqueNamespace('recovery'), commandTimeoutMs: 300 }, { logger }));
  });

  afterAll(async () => {
    await app.close();
    await server.stop();
  });

  it('is logged once per recovery (context SessionModule, log level), not per reconnection attempt', async () => {
    const client = new CookieClient(url);
    expect((await client.post('/set', { name: 'a', value: 1 })).status).toBeLessThan(300);
    expect(restoredLines()).toEqual([]); // connecting at start-up is no recovery

    for (const round of [1, 2]) {
      await server.stop();
      expect((await new CookieClient(url).post('/set', { name: 'a', value: 1 })).status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // several reconnection attempts fail meanwhile
      expect(restoredLines()).toHaveLength(round - 1);
      await server.restart();
      await eventually(async () => expect((await new CookieClient(url).post('/set', { name: 'a', value: 1 })).status).toBeLessThan(300));
      await eventually(() => expect(restoredLines()).toHaveLength(round));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(restoredLines()).toEqual([`${RESTORED} SessionModule`, `${RESTORED} SessionModule`]);
    expect(logger.errors.some((line) => line.includes('Redis connection error'))).toBe(true);
  });
});
