import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { redisCost } from '../http/redis-stats.js';
import { connectSocket } from './socket-client.js';
import { closeAll, signIn, sleep, startTwoInstances, type Instance } from './two-instances.js';

/**
 * However busy the sockets of a session are, the session is written at most once per touch
 * interval. Measured on a private Redis that only this app and the observer use (sweeper quiet),
 * so every HSET/PEXPIRE the server counts is ours.
 */
describe('Touch budget: socket traffic writes a session at most once per touch interval', () => {
  const TOUCH_INTERVAL_MS = 1000;
  const namespace = uniqueNamespace('ws-budget');
  let server: RedisServer;
  let observer: Redis;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    server = await startRedisServer();
    observer = new Redis(server.url, { enableAutoPipelining: false });
    ({ a, b } = await startTwoInstances({
      redis: server.url,
      redisNamespace: namespace,
      maxInactiveIntervalInSeconds: 60,
      sweepIntervalMs: 60_000,
      websocket: { touchIntervalSeconds: TOUCH_INTERVAL_MS / 1000 },
    }));
  });

  afterAll(async () => {
    await closeAll(a, b);
    observer?.disconnect();
    await server?.stop();
  });

  it('1,000 messages over 2 s from 5 sockets of one session: at most (elapsed / interval + 1) session writes', async () => {
    const user = await signIn(a.url, 'busy');
    const sockets: Socket[] = [];
    for (let i = 0; i < 5; i++) sockets.push(await connectSocket(a.url, { cookie: user.cookie }));
    const key = `${namespace}:sessions:{${user.sessionId}}`; // Spring's layout, with the id as hash tag
    const accessedBefore = Number(await observer.hget(key, 'lastAccessedTime'));

    let elapsed = 0;
    const cost = await redisCost(observer, async () => {
      const started = Date.now();
      const acks: Promise<unknown>[] = [];
      // 100 ticks of 20 ms, 2 messages per socket each: 1,000 messages spread over ~2 s.
      for (let tick = 0; tick < 100; tick++) {
        for (const socket of sockets) for (let k = 0; k < 2; k++) acks.push(socket.timeout(10_000).emitWithAck('echo', tick));
        await sleep(20);
      }
      const answers = await Promise.all(acks);
      elapsed = Date.now() - started;
      expect(answers).toHaveLength(1000);
    });

    const budget = Math.floor(elapsed / TOUCH_INTERVAL_MS) + 1;
    const writes = cost.calls.hset ?? 0;
    expect(writes).toBeGreaterThanOrEqual(1); // the traffic did keep the session alive...
    expect(writes).toBeLessThanOrEqual(budget); // ...within its budget
    expect(cost.calls.pexpire ?? 0).toBeLessThanOrEqual(budget);
    expect(cost.calls.eval ?? 0).toBeLessThanOrEqual(budget);
    // Each touch is one script that reads no attributes (it was a load: HGETALL, then the script).
    expect(cost.calls.hgetall ?? 0).toBe(0);
    expect(cost.calls.hmget ?? 0).toBe(cost.calls.eval ?? 0);
    expect(Number(await observer.hget(key, 'lastAccessedTime'))).toBeGreaterThan(accessedBefore);
    for (const socket of sockets) socket.close();
  });
});
