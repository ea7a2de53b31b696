import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SessionModuleOptions } from 'nestjs-redis-session';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { startWsFixtureApp } from './fixture-app.js';
import { malformedAuthTokens, malformedCookieValues, nonObjectAuthPayloads } from './handshake-values.js';
import { RecordingLogger } from './recording-logger.js';
import { handshake, sessionCookie, type HandshakeOutcome, type SocketOptions } from './socket-client.js';
import { closeAll, signIn, type Instance } from './two-instances.js';

/** The handshake interceptor: who may open a socket, and what a refused client is told. */
describe('Socket handshake', () => {
  const logger = new RecordingLogger();
  let strict: Instance; // defaults: same-origin only, a live session required
  let listed: Instance; // an allowed-origins list
  let open: Instance; // requireSession: false
  let liveId: string;
  let liveCookie: string;

  beforeAll(async () => {
    const common: SessionModuleOptions = { redis: sessionRedisOption(), redisNamespace: uniqueNamespace('ws-handshake') };
    [strict, listed, open] = await Promise.all([
      startWsFixtureApp(common, logger),
      startWsFixtureApp({ ...common, websocket: { allowedOrigins: ['https://chat.example.com', 'http://localhost:3000/'] } }, logger),
      startWsFixtureApp({ ...common, websocket: { requireSession: false } }, logger),
    ]);
    ({ sessionId: liveId, cookie: liveCookie } = await signIn(strict.url, 'alice'));
  });

  afterAll(() => closeAll(strict, listed, open));

  /** Connects, asks the server which session the socket has, and closes: a refusal or a close is returned as is. */
  async function attempt(url: string, options: SocketOptions): Promise<HandshakeOutcome | { kind: 'connected'; sessionId: string | null }> {
    const outcome = await handshake(url, options);
    if (outcome.kind !== 'connected') return outcome;
    const { sessionId } = await outcome.socket.timeout(2000).emitWithAck('whoami');
    outcome.socket.close();
    return { kind: 'connected', sessionId };
  }

  const refused = (code: string, message: RegExp) => ({ kind: 'refused', error: expect.objectContaining({ message: expect.stringMatching(message), data: { code } }) });
  const SESSION_REQUIRED = refused('SESSION_REQUIRED', /A live session is required/);
  const anonymous = { kind: 'connected', sessionId: null };

  describe('origin (cross-site WebSocket hijacking)', () => {
    it('by default allows the app\'s own origin and clients without an Origin, and refuses any other origin', async () => {
      expect(await attempt(strict.url, { cookie: liveCookie, origin: strict.url })).toEqual({ kind: 'connected', sessionId: liveId });
      expect(await attempt(strict.url, { cookie: liveCookie })).toEqual({ kind: 'connected', sessionId: liveId });
      for (const origin of ['https://evil.example', 'null', strict.url.replace('127.0.0.1', 'localhost'), `${strict.url}.evil.example`]) {
        expect(await attempt(strict.url, { cookie: liveCookie, origin })).toEqual(refused('ORIGIN_NOT_ALLOWED', /^Origin .+ is not allowed to open a socket here$/));
      }
    });

    it('with an allowed-origins list, allows exactly those origins (case and a trailing slash aside)', async () => {
      for (const origin of ['https://chat.example.com', 'HTTPS://Chat.Example.com', 'http://localhost:3000']) {
        expect(await attempt(listed.url, { cookie: liveCookie, origin })).toEqual({ kind: 'connected', sessionId: liveId });
      }
      for (const origin of [listed.url, 'https://chat.example.com.evil.example', 'http://chat.example.com', 'https://chat.example.com:8443', 'null']) {
        expect(await attempt(listed.url, { cookie: liveCookie, origin })).toEqual(refused('ORIGIN_NOT_ALLOWED', /is not allowed/));
      }
    });

    it('checks the origin on every namespace', async () => {
      expect(await attempt(strict.url, { cookie: liveCookie, origin: 'https://evil.example', namespace: '/other' })).toEqual(
        refused('ORIGIN_NOT_ALLOWED', /is not allowed/),
      );
    });
  });

  describe('session', () => {
    it('refuses a handshake without a session when one is required, and lets it in anonymously when not', async () => {
      expect(await attempt(strict.url, {})).toEqual(SESSION_REQUIRED);
      expect(await attempt(strict.url, { namespace: '/other' })).toEqual(SESSION_REQUIRED);
      expect(await attempt(open.url, {})).toEqual(anonymous);
    });

    it('non-browser clients: `auth.token` or the X-Auth-Token header with a live session id works without a cookie', async () => {
      expect(await attempt(strict.url, { token: liveId })).toEqual({ kind: 'connected', sessionId: liveId });
      expect(await attempt(strict.url, { headers: { 'X-Auth-Token': liveId } })).toEqual({ kind: 'connected', sessionId: liveId });
      expect(await attempt(strict.url, { token: liveId, namespace: '/other' })).toEqual({ kind: 'connected', sessionId: liveId });
    });

    it('a malformed cookie is refused (SESSION_REQUIRED) or anonymous, and never hides a live one beside it', async () => {
      for (const { label, value } of malformedCookieValues(liveId)) {
        const cookie = `SESSION=${value}`;
        expect({ label, outcome: await attempt(strict.url, { cookie }) }).toEqual({ label, outcome: SESSION_REQUIRED });
        expect({ label, outcome: await attempt(open.url, { cookie }) }).toEqual({ label, outcome: anonymous });
        expect({ label, outcome: await attempt(strict.url, { cookie: `${cookie}; ${sessionCookie(liveId)}` }) }).toEqual({
          label,
          outcome: { kind: 'connected', sessionId: liveId },
        });
      }
    });

    it('a cookie header over the HTTP header limit is refused by the server, which keeps serving', async () => {
      const outcome = await attempt(strict.url, { cookie: `SESSION=${'A'.repeat(64 * 1024)}` });
      expect(outcome.kind).not.toBe('connected');
      expect(await attempt(strict.url, { cookie: liveCookie })).toEqual({ kind: 'connected', sessionId: liveId });
    });

    it('an auth token of the wrong type or shape is refused (SESSION_REQUIRED) or anonymous', async () => {
      for (const { label, auth } of malformedAuthTokens(liveId)) {
        expect({ label, outcome: await attempt(strict.url, { auth }) }).toEqual({ label, outcome: SESSION_REQUIRED });
        expect({ label, outcome: await attempt(open.url, { auth }) }).toEqual({ label, outcome: anonymous });
      }
    });

    it('an auth payload that is not an object at all is refused (SESSION_REQUIRED), anonymous, or dropped by Socket.IO itself', async () => {
      // Socket.IO's parser reads some of these as another packet shape and drops others (closing the transport) before any middleware.
      const droppedByParser = { kind: 'closed', reason: 'transport close' };
      for (const { label, auth } of nonObjectAuthPayloads(liveId)) {
        const onStrict = await attempt(strict.url, { auth });
        expect({ label, outcome: onStrict }).toEqual({ label, outcome: onStrict.kind === 'closed' ? droppedByParser : SESSION_REQUIRED });
        const onOpen = await attempt(open.url, { auth });
        expect({ label, outcome: onOpen }).toEqual({ label, outcome: onOpen.kind === 'closed' ? droppedByParser : anonymous });
      }
    });
  });

  it('after all of the above: no error was logged and every instance still serves', async () => {
    expect(logger.errors).toEqual([]);
    for (const instance of [strict, listed]) {
      expect(await attempt(instance.url, { cookie: liveCookie })).toEqual({ kind: 'connected', sessionId: liveId });
    }
    expect(await attempt(open.url, { cookie: liveCookie })).toEqual({ kind: 'connected', sessionId: liveId });
  });
});
