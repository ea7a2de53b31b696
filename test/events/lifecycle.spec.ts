import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { EnableRedisHttpSession, SessionRepository } from 'nestjs-redis-session';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { newClient, uniqueNamespace } from '../harness/redis.js';
import { sleep, startInstance, storeSession } from './instance.js';

/** On a private server, so that every connection and command is the module's (or ours). */
describe('app.close()', () => {
  let server: RedisServer;
  let admin: Redis;

  const connections = async () => String(await admin.client('LIST')).trim().split('\n').length;
  const commandsProcessed = async () => Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))![1]);

  /** Connections close asynchronously on the server's side: poll (bounded) until the count settles. */
  async function connectionsSettleAt(expected: number): Promise<number> {
    let count = await connections();
    for (let i = 0; i < 50 && count !== expected; i++) {
      await sleep(20);
      count = await connections();
    }
    return count;
  }

  beforeAll(async () => {
    server = await startRedisServer();
    admin = newClient(server.url);
  });

  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it('closes the connections the module opened and stops the sweeper', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [EnableRedisHttpSession.forRoot({ redis: server.url, redisNamespace: uniqueNamespace('close'), sweepIntervalMs: 50 })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await storeSession(app.get(SessionRepository), { a: 1 }, 1);
    expect(await connections()).toBeGreaterThan(1);
    await app.close();
    expect(await connectionsSettleAt(1)).toBe(1); // only ours
    const before = await commandsProcessed();
    await sleep(500); // ten sweep intervals
    expect((await commandsProcessed()) - before).toBeLessThanOrEqual(1); // our own INFO
  });

  it('leaves a client passed in open and usable, with nothing of the module attached', async () => {
    const client = new Redis(server.url);
    await client.ping();
    const readyListeners = client.listenerCount('ready');
    const app = await startInstance({ redis: client, redisNamespace: uniqueNamespace('own'), sweepIntervalMs: 50 });
    const { session } = await storeSession(app.repository, { a: 1 }, 1);
    await app.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 5000);
    await app.close();
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
    expect(client.listenerCount('ready')).toBe(readyListeners);
    expect(await connectionsSettleAt(2)).toBe(2); // ours and the user's: the module's subscriber is gone
    const before = await commandsProcessed();
    await sleep(500);
    expect((await commandsProcessed()) - before).toBeLessThanOrEqual(1);
    await client.quit();
  });

  it('completes while Redis is down', async () => {
    const down = await startRedisServer();
    const app = await startInstance({ redis: down.url, redisNamespace: uniqueNamespace('down'), commandTimeoutMs: 300 });
    await down.stop();
    await sleep(200); // the module notices and starts reconnecting
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('completes while Redis is paused (connected, answering nothing), within about the command timeout', async () => {
    const paused = await startRedisServer();
    try {
      const app = await startInstance({ redis: paused.url, redisNamespace: uniqueNamespace('paused'), commandTimeoutMs: 300, sweepIntervalMs: 50 });
      await storeSession(app.repository, { a: 1 }, 1); // the sweeper has work, and its pass is under way when Redis stops answering
      paused.pause();
      await sleep(200);
      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      paused.resume();
      await paused.stop();
    }
  });
});
