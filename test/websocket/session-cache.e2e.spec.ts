import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { PRINCIPAL_NAME_INDEX_NAME, SessionMessageInterceptor, SessionRegistry, SessionRepository } from 'nestjs-redis-session';
import type { Socket } from 'socket.io-client';
import { sessionRedisClient, sessionRedisOption, testRedisMode, uniqueNamespace, type SharedRedisClient } from '../harness/redis.js';
import { recordUnhandledRejections } from '../http/host-process.js';
import { startWsFixtureApp } from './fixture-app.js';
import { connectSocket, firstOf, nextEvent } from './socket-client.js';
import { closeAll, sameUserOn, signIn, sleep, type Instance } from './two-instances.js';

/**
 * The socket session cache: `@Session()` in a gateway is served from this instance's copy of the
 * session while nothing changed (no Redis command), and every change, on whichever instance, drops
 * the copy: at once on the instance that made it, by pub/sub on the others.
 */
describe('Socket session cache: gateway reads without a round trip', () => {
  const namespace = uniqueNamespace('ws-cache');
  const standalone = testRedisMode() === 'standalone';
  const rejections = recordUnhandledRejections();
  /** B's own client (standalone): its reconnection can be held back, to keep its subscriber down. */
  let holdReconnect = false;
  let a: Instance;
  let b: Instance;
  let observer: SharedRedisClient;
  const commands = new Map<INestApplication, string[]>();

  /** Records every command an app's Redis client sends (its subscriber connections aside). */
  function recordCommands(app: INestApplication): void {
    const client = (app.get(SessionRepository) as unknown as { client: Redis | Cluster }).client;
    const log: string[] = [];
    commands.set(app, log);
    const send = client.sendCommand.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { sendCommand: (...args: unknown[]) => unknown }).sendCommand = (...args: unknown[]) => {
      log.push(String((args[0] as { name: string }).name).toLowerCase());
      return send(...args);
    };
  }

  async function commandsDuring(app: INestApplication, action: () => Promise<unknown>): Promise<string[]> {
    const log = commands.get(app)!;
    const before = log.length;
    await action();
    return log.slice(before);
  }

  const read = async (socket: Socket, name: string) => ((await socket.timeout(5000).emitWithAck('read', name)) as { value: unknown }).value;

  beforeAll(async () => {
    const options = { redisNamespace: namespace, sweepIntervalMs: 60_000, websocket: { touchIntervalSeconds: 60 } }; // sweeper quiet: every command counted is ours
    let bRedis: string | RedisOptions | ReturnType<typeof sessionRedisOption> = sessionRedisOption();
    if (standalone) {
      const url = new URL(sessionRedisOption() as string);
      bRedis = {
        host: url.hostname,
        port: Number(url.port),
        connectionName: `${namespace}:b`,
        maxRetriesPerRequest: 1,
        retryStrategy: () => (holdReconnect ? 1500 : 50),
      };
    }
    [a, b] = await Promise.all([startWsFixtureApp({ ...options, redis: sessionRedisOption() }), startWsFixtureApp({ ...options, redis: bRedis as RedisOptions })]);
    recordCommands(a.app);
    recordCommands(b.app);
    observer = sessionRedisClient();
  });

  afterAll(async () => {
    rejections.stop();
    await closeAll(a, b);
    observer?.disconnect();
  });

  it('a steady chat: 300 @Session() reads on a socket cost no Redis command after the first (touch interval 60 s)', async () => {
    const user = await signIn(a.url, 'chatty');
    await user.http.post('/set', { name: 'colour', value: 'red' });
    const socket = await connectSocket(a.url, { cookie: user.cookie });
    // The first read loads the session (and so proves the counter counts).
    expect(await commandsDuring(a.app, async () => expect(await read(socket, 'colour')).toBe('red'))).toEqual(['eval']);
    const during = await commandsDuring(a.app, async () => {
      for (let i = 0; i < 300; i++) expect(await read(socket, 'colour')).toBe('red');
    });
    expect(during.length / 300).toBeLessThanOrEqual(0.01);
    expect(during).toEqual([]);
    // The session carries the mark, never shown as an attribute.
    expect((await user.http.get('/get')).body.attributes).toEqual({ userId: 'chatty', colour: 'red' });
    socket.close();
  });

  it('an HTTP change on A is seen at once by a socket on A, and by a socket on B within the pub/sub delay (200 changes)', async () => {
    const user = await signIn(a.url, 'writer');
    await user.http.post('/set', { name: 'n', value: -1 });
    const onA = await connectSocket(a.url, { cookie: user.cookie });
    const onB = await connectSocket(b.url, { cookie: user.cookie });
    expect(await read(onA, 'n')).toBe(-1);
    expect(await read(onB, 'n')).toBe(-1);
    const latencies: number[] = [];
    let staleOnB = 0;
    const bCommands = await commandsDuring(b.app, async () => {
      for (let i = 0; i < 200; i++) {
        expect((await user.http.post('/set', { name: 'n', value: i })).status).toBe(200);
        const changed = Date.now();
        // This instance dropped its copy before the response went out: the first read sees the change.
        expect(await read(onA, 'n')).toBe(i);
        for (let poll = 0; ; poll++) {
          if ((await read(onB, 'n')) === i) break;
          staleOnB++;
          if (Date.now() - changed > 2000 || poll > 2000) throw new Error(`change ${i} not seen on B within 2 s`);
        }
        latencies.push(Date.now() - changed);
      }
    });
    latencies.sort((x, y) => x - y);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)];
    console.log(`HTTP change on A -> socket read on B (${standalone ? 'standalone' : 'cluster'}): p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${latencies.at(-1)} ms; stale polls ${staleOnB}`);
    // B served from its copy in between: at most one load per change (and the odd touch), not one per read.
    expect(bCommands.length).toBeLessThanOrEqual(200 + 5);
    onA.close();
    onB.close();
  });

  it('a gateway write on B is seen by an HTTP read on A and by another socket of the session on A', async () => {
    const user = await signIn(a.url, 'gateway-writer');
    const onA = await connectSocket(a.url, { cookie: user.cookie });
    const onB = await connectSocket(b.url, { cookie: user.cookie });
    expect(await read(onA, 'mood')).toBeNull();
    expect(await read(onB, 'mood')).toBeNull();
    for (const mood of ['calm', 'busy', 'done']) {
      expect(await onB.timeout(5000).emitWithAck('write', { name: 'mood', value: mood })).toEqual({ ok: true });
      expect((await user.http.get('/get')).body.attributes).toMatchObject({ mood });
      expect(await read(onB, 'mood')).toBe(mood); // B's own copy went with its write
      const deadline = Date.now() + 2000;
      while ((await read(onA, 'mood')) !== mood) {
        if (Date.now() > deadline) throw new Error(`A never saw mood=${mood}`);
      }
    }
    onA.close();
    onB.close();
  });

  /**
   * Runs `end` (which ends the session), then reads on `socket` at once: the read never returns the
   * session; the socket is told (an exception or `session:destroyed`, possibly before the read) and closed.
   */
  async function expectNotServedAfter(socket: Socket, name: string, end: () => Promise<unknown>): Promise<void> {
    const told = firstOf(socket, ['exception', 'session:destroyed'], 3000);
    const closed = firstOf(socket, ['disconnect'], 3000);
    await end();
    const answer = await socket.timeout(1500).emitWithAck('read', name).then(
      (value: unknown) => ({ acked: value }),
      () => 'no answer' as const,
    );
    expect(answer).toBe('no answer');
    expect(await told).not.toBe('nothing');
    expect(await closed).not.toBe('nothing');
  }

  it('after a logout on A, no socket read returns the session: a read right after the response on A is refused, B is closed', async () => {
    const user = await signIn(a.url, 'leaving');
    await user.http.post('/set', { name: 'secret', value: 's3' });
    const onA = await connectSocket(a.url, { cookie: user.cookie });
    const onB = await connectSocket(b.url, { cookie: user.cookie });
    expect(await read(onA, 'secret')).toBe('s3');
    expect(await read(onB, 'secret')).toBe('s3');
    const destroyedOnB = nextEvent(onB, 'session:destroyed');
    await expectNotServedAfter(onA, 'secret', async () => expect((await user.http.post('/logout')).status).toBe(204));
    expect(await destroyedOnB).toEqual({ reason: 'deleted' });
  });

  it('after a revoke (SessionRegistry.revoke) on A, no socket read returns the session', async () => {
    const user = await signIn(a.url, 'revoked');
    await user.http.post('/set', { name: PRINCIPAL_NAME_INDEX_NAME, value: 'revoked-principal' });
    const onA = await connectSocket(a.url, { cookie: user.cookie });
    const onB = await connectSocket(b.url, { cookie: user.cookie });
    expect(await read(onA, 'userId')).toBe('revoked');
    expect(await read(onB, 'userId')).toBe('revoked');
    const registry = a.app.get(SessionRegistry);
    const [info] = await registry.getSessions('revoked-principal');
    const destroyedOnB = nextEvent(onB, 'session:destroyed');
    await expectNotServedAfter(onA, 'userId', async () => expect(await registry.revoke('revoked-principal', info.handle)).toBe(true));
    expect(await destroyedOnB).toEqual({ reason: 'deleted' });
  });

  it('after an idle expiry, no socket read returns the session: the socket is closed first', async () => {
    const short = await startWsFixtureApp({ redis: sessionRedisOption(), redisNamespace: namespace, maxInactiveIntervalInSeconds: 2, websocket: { touchIntervalSeconds: 60 } });
    try {
      const user = await signIn(short.url, 'idle');
      const socket = await connectSocket(short.url, { cookie: user.cookie });
      expect(await read(socket, 'userId')).toBe('idle');
      // No traffic past the idle deadline: the copy is past its session's deadline, Redis expires the key.
      await expectNotServedAfter(socket, 'userId', () => sleep(2500));
    } finally {
      await closeAll(short);
    }
  });

  it('a login (changeId) over HTTP while a socket is open under the old id: the old id is no longer served, as without the cache', async () => {
    const user = await signIn(a.url, 'before-login');
    const onA = await connectSocket(a.url, { cookie: user.cookie });
    const onB = await connectSocket(b.url, { cookie: user.cookie });
    expect(await read(onA, 'userId')).toBe('before-login');
    expect(await read(onB, 'userId')).toBe('before-login');
    // Same instance: the copy under the old id went with the write; the socket finds its session gone.
    await expectNotServedAfter(onA, 'userId', async () => expect((await user.http.post('/login', { userId: 'after-login' })).body.id).not.toBe(user.sessionId));
    // Other instance: once the rename's message is in, B's read goes to Redis and finds the old id gone.
    const deadline = Date.now() + 3000;
    for (;;) {
      const value = await onB.timeout(1000).emitWithAck('read', 'userId').then((answer: { value: unknown }) => answer.value, () => 'refused');
      if (value === 'refused') break;
      expect(value).toBe('before-login'); // never the new session's data under the old id
      if (Date.now() > deadline) throw new Error('B kept serving the old id');
      await sleep(20);
    }
    // The new id works for a new socket.
    const renewed = await connectSocket(b.url, { cookie: `SESSION=${user.http.cookies.get('SESSION')}` });
    expect(await read(renewed, 'userId')).toBe('after-login');
    renewed.close();
  });

  // Standalone only: it kills one instance's subscriber connection, which a Cluster's client replaces by node.
  if (standalone) it('a subscriber reconnect: copies are not served while B is unsubscribed, and changes made meanwhile are seen', async () => {
    const user = await signIn(a.url, 'reconnect');
    await user.http.post('/set', { name: 'v', value: 'before' });
    const onB = await connectSocket(b.url, { cookie: user.cookie });
    expect(await read(onB, 'v')).toBe('before');
    expect(await commandsDuring(b.app, async () => expect(await read(onB, 'v')).toBe('before'))).toEqual([]); // served from the copy
    const admin = observer as Redis;
    const channel = `${namespace}:event`;
    const subscribers = async () => ((await admin.pubsub('NUMSUB', channel)) as [string, number])[1];
    expect(await subscribers()).toBe(2);
    // Kill B's subscriber only (its name, subscribed) and hold its reconnection back.
    const clients = ((await admin.client('LIST')) as string).split('\n').filter((line) => line.includes(`name=${namespace}:b `) && !/ sub=0 /.test(line));
    expect(clients).toHaveLength(1);
    holdReconnect = true;
    await admin.client('KILL', 'ID', /id=(\d+)/.exec(clients[0])![1]);
    try {
      expect(await subscribers()).toBe(1); // the path: B is not subscribed now
      await user.http.post('/set', { name: 'v', value: 'while-down' }); // its `changed` message reaches A only
      expect(await subscribers()).toBe(1); // ...B was still down when it was published
      // B does not serve its copy meanwhile: it loads (and sees the change).
      expect(await commandsDuring(b.app, async () => expect(await read(onB, 'v')).toBe('while-down'))).not.toEqual([]);
    } finally {
      holdReconnect = false;
    }
    const deadline = Date.now() + 8000;
    while ((await subscribers()) < 2) {
      if (Date.now() > deadline) throw new Error('B never subscribed again');
      await sleep(50);
    }
    await sleep(50);
    expect(await read(onB, 'v')).toBe('while-down');
    expect(await commandsDuring(b.app, async () => expect(await read(onB, 'v')).toBe('while-down'))).toEqual([]); // served again
    await user.http.post('/set', { name: 'v', value: 'after' });
    const until = Date.now() + 2000;
    while ((await read(onB, 'v')) !== 'after') {
      if (Date.now() > until) throw new Error('B missed a change after resubscribing');
    }
    onB.close();
  });

  it('the copies are dropped as sockets go: none left once every socket disconnected; no unhandled rejection', async () => {
    const user = await signIn(a.url, 'transient');
    const sockets = [await connectSocket(a.url, { cookie: user.cookie }), await connectSocket(a.url, { cookie: user.cookie })];
    for (const socket of sockets) expect(await read(socket, 'userId')).toBe('transient');
    const other = sameUserOn(a.url, user.http);
    expect((await other.get('/get')).body.exists).toBe(true);
    for (const socket of sockets) socket.close();
    await sleep(200);
    expect([cacheSize(a.app), cacheSize(b.app)]).toEqual([0, 0]);
    expect(rejections.reasons).toEqual([]);
  });
});

/** The cache's size, through the interceptor that holds it (the cache itself is not exported). */
function cacheSize(app: INestApplication): number {
  return (app.get(SessionMessageInterceptor) as unknown as { cache: { size: number } }).cache.size;
}
