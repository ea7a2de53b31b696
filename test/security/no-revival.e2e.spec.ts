import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { FlushMode } from 'nestjs-redis-session';
import type { Socket } from 'socket.io-client';
import { allKeys } from '../fuzz/support/key-audit.js';
import { sharedRedisUrl, uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from '../http/client.js';
import { recordUnhandledRejections } from '../http/host-process.js';
import { connectSocket } from '../websocket/socket-client.js';
import { startSecurityApp, type SecurityApp } from './support/security-app.js';

/**
 * A session cannot be revived after invalidate(), whatever runs around the logout: HTTP requests
 * that write (some still in their handler when the logout lands), socket messages that write through
 * @Session() in a gateway, reads that touch. fast-check generates the interleavings (order, delays,
 * pauses, logout over HTTP or over the socket); once the server is idle, nothing of the session is
 * left: no hash, no index entry, no attribute visible to any later request, and its socket is closed.
 */

type Op =
  | { kind: 'http-write'; delayMs: number }
  | { kind: 'socket-write'; delayMs: number }
  | { kind: 'http-read' }
  | { kind: 'pause'; ms: number };

const delay = fc.integer({ min: 0, max: 60 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('http-write' as const), delayMs: delay }),
  fc.record({ kind: fc.constant('socket-write' as const), delayMs: delay }),
  fc.record({ kind: fc.constant('http-read' as const) }),
  fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 30 }) }),
);
const scenario = fc.record({
  ops: fc.array(op, { minLength: 1, maxLength: 8 }),
  logoutAt: fc.nat(),
  logoutDelayMs: fc.integer({ min: 0, max: 40 }),
  logoutVia: fc.constantFrom('http', 'socket'),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Emits and resolves with the ack, or once the socket is closed (a closed socket acks nothing). */
function emitUntilClosed(socket: Socket, event: string, payload: unknown): Promise<unknown> {
  if (!socket.connected) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const onClose = () => resolve('closed');
    socket.once('disconnect', onClose);
    socket.emit(event, payload, (answer: unknown) => {
      socket.off('disconnect', onClose);
      resolve(answer);
    });
  });
}

describe.each([FlushMode.ON_SAVE, FlushMode.IMMEDIATE])('no revival after invalidate() (flush mode %s)', (flushMode) => {
  const namespace = uniqueNamespace('no-revival');
  let app: SecurityApp;
  let redis: Redis;
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  let run = 0;

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    app = await startSecurityApp({ redis: sharedRedisUrl(), redisNamespace: namespace, flushMode });
    redis = new Redis(sharedRedisUrl());
  });

  afterAll(async () => {
    rejections.stop();
    await app.app.close();
    redis.disconnect();
  });

  /** HTTP with a fixed cookie, as another tab that still holds it would send. */
  const http = (method: 'GET' | 'POST', path: string, cookie: string, body?: unknown) =>
    fetch(app.url + path, { method, headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) }).then(
      async (response) => ({ status: response.status, body: await response.json().catch(() => undefined) }),
    );

  /** Every trace of a session in Redis: its hash, its entries in the deadline and principal indexes, hashes holding its user. */
  async function tracesOf(sessionId: string, userId: string): Promise<string[]> {
    const traces: string[] = [];
    if (await redis.exists(`${namespace}:sessions:{${sessionId}}`)) traces.push('session hash');
    for (const key of await allKeys(redis)) {
      if (!key.startsWith(`${namespace}:`)) continue;
      const type = await redis.type(key);
      if (type === 'zset' && (await redis.zscore(key, sessionId)) !== null) traces.push(`deadline index ${key}`);
      if (type === 'set' && (await redis.sismember(key, sessionId))) traces.push(`set ${key}`);
      if (type === 'hash' && key.startsWith(`${namespace}:sessions:`) && (await redis.hget(key, 'sessionAttr:userId')) === JSON.stringify(userId)) {
        traces.push(`user's attributes in ${key}`);
      }
      if (type === 'hash' && key.includes(':expirations:') && (await redis.hexists(key, sessionId))) traces.push(`principal map ${key}`);
    }
    return traces;
  }

  it('any interleaving of HTTP writes, socket writes, reads and one logout leaves nothing of the session', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ ops, logoutAt, logoutDelayMs, logoutVia }) => {
        const userId = `user-${++run}`;
        const user = new CookieClient(app.url);
        const sessionId: string = (await user.post('/login', { userId })).body.id;
        const cookie = `SESSION=${user.cookies.get('SESSION')}`;
        const socket = await connectSocket(app.url, { cookie });
        const closed = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
        try {
          const sequence: (Op | { kind: 'logout' })[] = [...ops];
          sequence.splice(logoutAt % (ops.length + 1), 0, { kind: 'logout' });
          const inFlight: Promise<unknown>[] = [];
          // Started in order, not awaited: a pause holds back only the steps after it.
          for (const [i, step] of sequence.entries()) {
            if (step.kind === 'pause') await sleep(step.ms);
            else if (step.kind === 'http-write') inFlight.push(http('POST', '/set', cookie, { name: `h${i}`, value: i, delayMs: step.delayMs }));
            else if (step.kind === 'http-read') inFlight.push(http('GET', '/attributes', cookie));
            else if (step.kind === 'socket-write') inFlight.push(emitUntilClosed(socket, 'write', { name: `s${i}`, value: i, delayMs: step.delayMs }));
            else if (logoutVia === 'http') inFlight.push(http('POST', '/logout', cookie, { delayMs: logoutDelayMs }));
            else inFlight.push(emitUntilClosed(socket, 'logout', { delayMs: logoutDelayMs }));
          }
          await Promise.all(inFlight);
          await app.quiescent();

          expect(await tracesOf(sessionId, userId)).toEqual([]);
          expect(await http('GET', '/attributes', cookie)).toEqual({ status: 200, body: { exists: false, attributes: [] } });
          expect(await http('GET', '/me', cookie)).toMatchObject({ status: 401 });
          expect(await app.repository.findByPrincipalName(userId)).toEqual([]);
          expect(await app.repository.findById(sessionId)).toBeUndefined();
          await closed; // the server closes the session's socket (jest's timeout bounds the wait)
        } finally {
          socket.close();
        }
      }),
      { numRuns: 60 },
    );
    expect(rejections.reasons).toEqual([]);
  }, 60_000);
});
