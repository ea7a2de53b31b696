import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { sleep, startInstance, storeSession, type Instance } from './instance.js';

/** Managed Redis: CONFIG is disabled and keyspace notifications are off. */
describe('events when CONFIG is forbidden', () => {
  const namespace = uniqueNamespace('noconfig');
  const warnings: string[] = [];
  const originalWarn = Logger.prototype.warn;
  let server: RedisServer;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    Logger.prototype.warn = function (this: Logger, message: unknown, ...rest: unknown[]) {
      warnings.push(String(message));
      return originalWarn.call(this, message, ...rest);
    } as Logger['warn'];
    server = await startRedisServer({ args: ['--rename-command', 'CONFIG', ''] });
    a = await startInstance({ redis: server.url, redisNamespace: namespace });
    b = await startInstance({ redis: server.url, redisNamespace: namespace });
  });

  afterAll(async () => {
    Logger.prototype.warn = originalWarn;
    await Promise.all([a?.close(), b?.close()]);
    await server?.stop();
  });

  it('says so once per instance, starts, and still delivers expiry (from the sweeper) on both instances', async () => {
    const { session } = await storeSession(a.repository, { a: 1 }, 1);
    await Promise.all([a, b].map((instance) => instance.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 5000)));
    const { session: deleted } = await storeSession(b.repository);
    await deleted.invalidate();
    await a.waitFor((e) => e.sessionId === deleted.id && e.type === 'deleted', 2000);
    await sleep(500);
    const about = warnings.filter((message) => /keyspace notifications/.test(message));
    expect(about).toHaveLength(2); // one per instance
    expect(about[0]).toMatch(/notify-keyspace-events/);
    expect([a.count(session.id, 'expired'), b.count(session.id, 'expired')]).toEqual([1, 1]);
  });

  it('does not say it again after a reconnect', async () => {
    await server.restart();
    let stored: Awaited<ReturnType<typeof storeSession>> | undefined;
    for (let attempt = 0; attempt < 50 && !stored; attempt++) stored = await storeSession(a.repository, { a: 1 }, 1).catch(() => sleep(100).then(() => undefined));
    await b.waitFor((e) => e.sessionId === stored!.session.id && e.type === 'expired', 5000);
    expect(warnings.filter((message) => /keyspace notifications/.test(message))).toHaveLength(2);
  });
});
