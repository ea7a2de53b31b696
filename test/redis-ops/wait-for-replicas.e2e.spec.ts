import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySessionRepository, SessionOptionsError, type SessionModuleOptions } from 'nestjs-redis-session';
import { resolveSessionOptions } from '../../libs/session/src/session-options.js';
import { eventually } from '../harness/eventually.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from '../http/client.js';
import { sessionIdOf, startFixtureApp } from '../http/fixture-app.js';
import { recordUnhandledRejections } from '../http/host-process.js';

const WAIT_TIMEOUT_MS = 300;
const COMMAND_TIMEOUT_MS = 2000;
/** Far above what a write waits (WAIT_TIMEOUT_MS): for a loaded 2-core machine. */
const MARGIN_MS = 1500;

/** `operation`, or a failure once `ms` have passed: no request of these tests may hang. */
function within<T>(operation: Promise<T>, ms = COMMAND_TIMEOUT_MS * 3): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
}

async function timed<T>(operation: Promise<T>): Promise<{ result: T; ms: number }> {
  const start = Date.now();
  const result = await within(operation);
  return { result, ms: Date.now() - start };
}

/** How many WAIT commands the server has run. */
async function waitCalls(redis: Redis): Promise<number> {
  return Number(/^cmdstat_wait:calls=(\d+)/m.exec(await redis.info('commandstats'))?.[1] ?? 0);
}

/** Whether the server answers a PING within `ms`. */
async function answers(port: number, ms: number): Promise<boolean> {
  const probe = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    return (
      (await within(
        probe.connect().then(() => probe.ping()),
        ms,
      )) === 'PONG'
    );
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

describe('waitForReplicas on a primary with one replica', () => {
  const namespace = uniqueNamespace('wait');
  let primary: RedisServer;
  let replica: RedisServer;
  let onPrimary: Redis;
  let onReplica: Redis;
  let app: INestApplication;
  let url: string;
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  let dir: string | undefined;
  const key = (cookie: string) => `${namespace}:sessions:{${sessionIdOf(cookie)}}`;

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    // A full resync writes an RDB file even without persistence: in a folder of ours, not the cwd.
    dir = mkdtempSync(join(tmpdir(), 'session-wait-'));
    primary = await startRedisServer({ args: ['--dir', dir] });
    replica = await startRedisServer({ args: ['--dir', dir, '--replicaof', '127.0.0.1', String(primary.port)] });
    onPrimary = new Redis(primary.port, { maxRetriesPerRequest: 1 });
    onReplica = new Redis(replica.port, { maxRetriesPerRequest: 1 });
    await eventually(async () => expect(await onReplica.info('replication')).toMatch(/master_link_status:up/), 10_000);
    ({ app, url } = await startFixtureApp('express', {
      redis: primary.url,
      redisNamespace: namespace,
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      waitForReplicas: { replicas: 1, timeoutMs: WAIT_TIMEOUT_MS },
    }));
  });

  afterAll(async () => {
    rejections?.stop();
    replica?.resume();
    await app?.close();
    onPrimary?.disconnect();
    onReplica?.disconnect();
    await Promise.all([primary?.stop(), replica?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledges each kind of write once the replica has it; reads do not wait', async () => {
    const user = new CookieClient(url);
    const callsBefore = await waitCalls(onPrimary);

    expect((await within(user.post('/login', { userId: 'u1' }))).status).toBe(200);
    // Acknowledged means replicated: the replica has the session the moment the response arrives.
    const loggedIn = user.cookies.get('SESSION')!;
    expect(await onReplica.hget(key(loggedIn), 'sessionAttr:userId')).toBe('"u1"');

    expect((await within(user.post('/set', { name: 'counter', value: 1 }))).status).toBe(200);
    expect(await onReplica.hget(key(loggedIn), 'sessionAttr:counter')).toBe('1');

    expect((await within(user.post('/change-id'))).status).toBe(200);
    const renamed = user.cookies.get('SESSION')!;
    expect(renamed).not.toBe(loggedIn);
    expect(await onReplica.exists(key(renamed), key(loggedIn))).toBe(1);
    expect(await onReplica.hget(key(renamed), 'sessionAttr:counter')).toBe('1');

    const callsAfterWrites = await waitCalls(onPrimary);
    expect(callsAfterWrites - callsBefore).toBeGreaterThanOrEqual(3);
    expect((await within(user.get('/peek'))).body).toEqual({ exists: true, userId: 'u1' });
    expect(await waitCalls(onPrimary)).toBe(callsAfterWrites);

    expect((await within(user.post('/logout'))).status).toBe(204);
    expect(await onReplica.exists(key(renamed))).toBe(0);
    expect(await waitCalls(onPrimary)).toBeGreaterThan(callsAfterWrites);
  });

  it('with the replica paused, writes fail with 503 after timeoutMs, reads keep working, and writes succeed once it is back', async () => {
    const user = new CookieClient(url);
    expect((await within(user.post('/login', { userId: 'u2' }))).status).toBe(200);
    const cookie = user.cookies.get('SESSION')!;

    replica.pause();
    try {
      // The path: the replica really answers nothing now.
      expect(await answers(replica.port, 300)).toBe(false);

      const write = await timed(user.post('/set', { name: 'counter', value: 2 }));
      expect(write.result.status).toBe(503);
      expect(write.result.body).toMatchObject({ message: expect.stringMatching(/session store is unavailable/) });
      expect(write.ms).toBeGreaterThanOrEqual(WAIT_TIMEOUT_MS - 25);
      expect(write.ms).toBeLessThan(WAIT_TIMEOUT_MS + MARGIN_MS);
      // Not acknowledged, though on the primary: a 503 from a write means "not known to be saved".
      expect(await onPrimary.hget(key(cookie), 'sessionAttr:counter')).toBe('2');

      const read = await timed(user.get('/peek'));
      expect(read.result).toMatchObject({ status: 200, body: { exists: true, userId: 'u2' } });
      expect(read.ms).toBeLessThan(COMMAND_TIMEOUT_MS);
      // A read sent while a write's WAIT holds the (one, shared) connection answers once the WAIT does.
      const waiting = timed(user.post('/set', { name: 'other', value: 1 }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const readBehind = await timed(user.get('/peek'));
      expect(readBehind.result.status).toBe(200);
      expect(readBehind.ms).toBeLessThan(COMMAND_TIMEOUT_MS);
      expect((await waiting).result.status).toBe(503);

      // A new session and an id change are writes too: refused, and the client keeps its old cookie.
      const fresh = new CookieClient(url);
      const login = await timed(fresh.post('/login', { userId: 'u3' }));
      expect(login.result.status).toBe(503);
      expect(login.ms).toBeLessThan(WAIT_TIMEOUT_MS + MARGIN_MS);
      expect(fresh.cookies.has('SESSION')).toBe(false);
      expect((await within(user.post('/change-id'))).status).toBe(503);
      expect(user.cookies.get('SESSION')).toBe(cookie);
      console.log(
        `[waitForReplicas, replica paused] write 503 after ${write.ms} ms, login 503 after ${login.ms} ms, ` +
          `read 200 after ${read.ms} ms alone, ${readBehind.ms} ms behind a waiting write (timeoutMs ${WAIT_TIMEOUT_MS})`,
      );
    } finally {
      replica.resume();
    }

    // Back: the replica catches up and writes are acknowledged again.
    const again = await eventually(async () => {
      const response = await within(user.post('/set', { name: 'counter', value: 3 }));
      expect(response.status).toBe(200);
      return response;
    }, 10_000);
    expect(again.status).toBe(200);
    expect(await onReplica.hget(key(user.cookies.get('SESSION')!), 'sessionAttr:counter')).toBe('3');
    expect(rejections.reasons).toEqual([]);
  });

  it('a logout the replica did not confirm answers 503', async () => {
    const user = new CookieClient(url);
    expect((await within(user.post('/login', { userId: 'u4' }))).status).toBe(200);
    replica.pause();
    try {
      expect(await answers(replica.port, 300)).toBe(false);
      const logout = await timed(user.post('/logout'));
      expect(logout.result.status).toBe(503);
      expect(logout.ms).toBeLessThan(WAIT_TIMEOUT_MS + MARGIN_MS);
    } finally {
      replica.resume();
    }
    expect(rejections.reasons).toEqual([]);
  });
});

describe('the waitForReplicas option', () => {
  const resolve = (options: SessionModuleOptions) => resolveSessionOptions({ redis: 'redis://127.0.0.1:6379', ...options });

  it('is off by default, and kept as given', () => {
    expect(resolve({}).waitForReplicas).toBeUndefined();
    expect(resolve({ waitForReplicas: { replicas: 2, timeoutMs: 100 } }).waitForReplicas).toEqual({ replicas: 2, timeoutMs: 100 });
  });

  it.each<[string, unknown, string]>([
    ['not an object', 1, 'invalid option "waitForReplicas": expected { replicas: number, timeoutMs: number }, got 1'],
    ['replicas missing', { timeoutMs: 100 }, 'invalid option "waitForReplicas.replicas": expected an integer >= 1, got undefined'],
    ['no replica', { replicas: 0, timeoutMs: 100 }, 'invalid option "waitForReplicas.replicas": expected an integer >= 1, got 0'],
    ['a fraction of a replica', { replicas: 1.5, timeoutMs: 100 }, 'invalid option "waitForReplicas.replicas": expected an integer >= 1, got 1.5'],
    ['replicas as a string', { replicas: '1', timeoutMs: 100 }, 'invalid option "waitForReplicas.replicas": expected an integer >= 1, got "1"'],
    ['no timeout', { replicas: 1, timeoutMs: 0 }, 'invalid option "waitForReplicas.timeoutMs": expected an integer >= 1, got 0'],
    ['a fraction of a ms', { replicas: 1, timeoutMs: 2.5 }, 'invalid option "waitForReplicas.timeoutMs": expected an integer >= 1, got 2.5'],
    [
      'as long as commandTimeoutMs',
      { replicas: 1, timeoutMs: 2000 },
      'invalid option "waitForReplicas.timeoutMs": expected less than commandTimeoutMs (2000), got 2000',
    ],
    ['a misspelt key', { replica: 1, timeoutMs: 100 }, 'unknown option "waitForReplicas.replica" (did you mean "waitForReplicas.replicas"?)'],
    ['another misspelt key', { replicas: 1, timeout: 100 }, 'unknown option "waitForReplicas.timeout" (did you mean "waitForReplicas.timeoutMs"?)'],
  ])('refuses %s, naming the option', (_case, waitForReplicas, message) => {
    expect(() => resolve({ waitForReplicas } as SessionModuleOptions)).toThrow(SessionOptionsError);
    expect(() => resolve({ waitForReplicas } as SessionModuleOptions)).toThrow(`EnableRedisHttpSession: ${message}`);
  });

  it('names itself when misspelt at the top level', () => {
    expect(() => resolve({ waitForReplica: { replicas: 1, timeoutMs: 100 } } as SessionModuleOptions)).toThrow(
      'EnableRedisHttpSession: unknown option "waitForReplica" (did you mean "waitForReplicas"?)',
    );
  });

  it('is refused by the memory store and a store of your own, and on a Redis Cluster', () => {
    const waitForReplicas = { replicas: 1, timeoutMs: 100 };
    expect(() => resolve({ store: 'memory', waitForReplicas })).toThrow(
      'EnableRedisHttpSession: invalid option "waitForReplicas": waits for Redis replicas: it applies to the Redis store only, not to store: "memory"',
    );
    expect(() => resolve({ store: new InMemorySessionRepository(), waitForReplicas })).toThrow(
      'it applies to the Redis store only, not to a store of your own',
    );
    expect(() => resolve({ redis: { cluster: [{ host: '127.0.0.1', port: 7000 }] }, waitForReplicas })).toThrow(
      'invalid option "waitForReplicas": is supported on a standalone Redis (Sentinel included), not on a Redis Cluster',
    );
    expect(() => resolve({ redis: 'redis+cluster://127.0.0.1:7000', waitForReplicas })).toThrow('not on a Redis Cluster');
  });

  it('stops forRoot at start-up with the memory store', async () => {
    const start = startFixtureApp('express', { store: 'memory', waitForReplicas: { replicas: 1, timeoutMs: 100 } }, { logger: false });
    await expect(start).rejects.toThrow('invalid option "waitForReplicas": waits for Redis replicas: it applies to the Redis store only');
  });
});
