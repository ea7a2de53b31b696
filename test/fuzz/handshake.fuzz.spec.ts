import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { recordUnhandledRejections } from '../http/host-process.js';
import { startWsFixtureApp } from '../websocket/fixture-app.js';
import { RecordingLogger } from '../websocket/recording-logger.js';
import { handshake, type SocketOptions } from '../websocket/socket-client.js';
import { closeAll, signIn, type Instance } from '../websocket/two-instances.js';
import { CommandLog } from '../harness/command-log.js';
import { base64, cookieHeader, headerText, nearValidCookieValues, nearValidTokens, wellFormedId } from './support/id-arbitraries.js';
import { isLookedUp } from './support/candidates.js';
import { allKeys, sessionKeyUse } from './support/key-audit.js';

/**
 * Property-based fuzz of what a Socket.IO handshake carries: `auth` payloads of any JSON shape,
 * cookies and X-Auth-Token headers. A handshake either connects under the live session (only when
 * it carries it), connects anonymously (requireSession: false), is refused with SESSION_REQUIRED, or,
 * for an `auth` that is not an object, is dropped by Socket.IO's own parser. Nothing is logged as an
 * error, no promise is left unhandled, and Redis (MONITOR) sees only exact keys of well-formed ids.
 */

type Verdict = { kind: 'session'; sessionId: string | null } | { kind: 'refused'; code: string | undefined } | { kind: 'dropped' };

describe('Socket.IO handshake fuzz', () => {
  const namespace = uniqueNamespace('fuzz-handshake');
  const logger = new RecordingLogger();
  let server: RedisServer;
  let redis: Redis;
  let log: CommandLog;
  let strict: Instance; // a live session required (default)
  let open: Instance; // requireSession: false
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  let liveId: string;
  const sent: string[] = [];

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    server = await startRedisServer();
    redis = new Redis(server.url);
    [strict, open] = await Promise.all([
      startWsFixtureApp({ redis: server.url, redisNamespace: namespace }, logger),
      startWsFixtureApp({ redis: server.url, redisNamespace: namespace, websocket: { requireSession: false } }, logger),
    ]);
    liveId = (await signIn(strict.url, 'alice')).sessionId;
    log = await CommandLog.start(server.url);
  });

  afterAll(async () => {
    rejections.stop();
    log.stop();
    await closeAll(strict, open);
    redis.disconnect();
    await server.stop();
  });

  /** What the server made of a handshake: the socket's session (asked over the socket), a refusal, or a drop. */
  async function verdict(url: string, options: SocketOptions): Promise<Verdict> {
    sent.push(JSON.stringify(options));
    const outcome = await handshake(url, options);
    if (outcome.kind === 'refused') return { kind: 'refused', code: outcome.error.data?.code };
    if (outcome.kind === 'closed') {
      // Only Socket.IO's parser may close a handshake without a verdict; a timeout is a failure.
      expect(outcome.reason).toBe('transport close');
      return { kind: 'dropped' };
    }
    try {
      const { sessionId } = await outcome.socket.timeout(3000).emitWithAck('whoami');
      return { kind: 'session', sessionId };
    } finally {
      outcome.socket.close();
    }
  }

  /** The verdict a handshake must get when it does not carry the live session. */
  const withoutSession = (requireSession: boolean, droppable: boolean) =>
    droppable
      ? [requireSession ? { kind: 'refused', code: 'SESSION_REQUIRED' } : { kind: 'session', sessionId: null }, { kind: 'dropped' }]
      : [requireSession ? { kind: 'refused', code: 'SESSION_REQUIRED' } : { kind: 'session', sessionId: null }];

  const isPlainObject = (value: unknown) => Object.prototype.toString.call(value) === '[object Object]';
  const carriesLiveToken = (auth: unknown) => isPlainObject(auth) && Object.hasOwn(auth as object, 'token') && (auth as { token: unknown }).token === liveId;

  it('auth: any JSON payload connects under the live session only when auth.token is exactly its id', async () => {
    const token = fc.oneof(fc.jsonValue({ maxDepth: 2 }), nearValidTokens(liveId), wellFormedId, fc.constant(liveId), fc.constant('A'.repeat(100_000)));
    const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('token', '__proto__', 'constructor', 'sessionId'));
    const auth = fc.oneof(
      { weight: 3, arbitrary: fc.record({ token }) },
      { weight: 3, arbitrary: fc.dictionary(key, fc.oneof(token, fc.jsonValue({ maxDepth: 2 })), { maxKeys: 4 }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    );
    await fc.assert(
      fc.asyncProperty(auth, fc.boolean(), async (payload, requireSession) => {
        const got = await verdict(requireSession ? strict.url : open.url, { auth: payload });
        if (carriesLiveToken(payload)) expect(got).toEqual({ kind: 'session', sessionId: liveId });
        else expect(withoutSession(requireSession, !isPlainObject(payload))).toContainEqual(got);
      }),
      { numRuns: 400 },
    );
  });

  it('cookie: any Cookie header connects under the live session only when it carries its cookie among its first three ids', async () => {
    const noise = fc.oneof(nearValidCookieValues(liveId), headerText(40), wellFormedId.map(base64));
    const cookie = fc.oneof(headerText(200), cookieHeader(noise), nearValidCookieValues(liveId).map((value) => `SESSION=${value}`));
    await fc.assert(
      fc.asyncProperty(cookie, fc.boolean(), fc.boolean(), async (header, withLive, requireSession) => {
        const sentCookie = withLive ? `${header}; SESSION=${base64(liveId)}` : header;
        const got = await verdict(requireSession ? strict.url : open.url, { cookie: sentCookie });
        if (isLookedUp(sentCookie, liveId)) expect(got).toEqual({ kind: 'session', sessionId: liveId });
        else expect(withoutSession(requireSession, false)).toContainEqual(got);
      }),
      { numRuns: 300 },
    );
  });

  it('X-Auth-Token: any header value connects under the live session only when it is its id', async () => {
    const value = fc.oneof(headerText(100), nearValidTokens(liveId), wellFormedId);
    await fc.assert(
      fc.asyncProperty(value, fc.boolean(), async (header, requireSession) => {
        const got = await verdict(requireSession ? strict.url : open.url, { headers: { 'X-Auth-Token': header } });
        // An HTTP header loses its surrounding blanks on the way; the id inside is then as good as sent.
        if (header.replace(/^[ \t]+|[ \t]+$/g, '') === liveId) expect(got).toEqual({ kind: 'session', sessionId: liveId });
        else if (!header.includes(liveId)) expect(withoutSession(requireSession, false)).toContainEqual(got);
      }),
      { numRuns: 200 },
    );
  });

  it('afterwards: only exact keys of well-formed ids reached Redis, none outside the namespace; nothing logged, nothing unhandled', async () => {
    await log.settle();
    const use = sessionKeyUse(log.commands, namespace);
    expect(use.malformed).toEqual([]);
    expect(use.ids).toContain(liveId);
    // Every id looked up was the live one or one a client sent verbatim (as a token, or base64 in a cookie).
    const unexplained = [...use.ids].filter((id) => id !== liveId && !sent.some((options) => options.includes(id) || options.includes(base64(id))));
    expect(unexplained).toEqual([]);
    expect((await allKeys(redis)).filter((key) => !key.startsWith(`${namespace}:`))).toEqual([]);
    expect(logger.errors).toEqual([]);
    expect(rejections.reasons).toEqual([]);
  });
});
