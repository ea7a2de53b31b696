import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { CommandLog } from '../harness/command-log.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from '../http/client.js';
import { handshake, type HandshakeOutcome } from '../websocket/socket-client.js';
import { pollingHandshake } from './support/polling-handshake.js';
import { startSecurityApp, type SecurityApp } from './support/security-app.js';

/**
 * Cross-site WebSocket hijacking: a page on another site can make the user's browser open a socket
 * to the app, and the browser attaches the user's cookie (no CORS check applies to WebSockets, and
 * SameSite=Lax does not stop a same-site-looking socket from a subdomain). The handshake interceptor
 * refuses any Origin that is not allowed, over both transports, before it asks the store anything.
 */

/** Headers a browser sends with a socket handshake opened by a page of `origin`. */
const browserHeaders = (origin: string, cookie: string) => ({
  origin,
  cookie,
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36',
  'sec-fetch-site': 'cross-site',
  'sec-fetch-mode': 'websocket',
});

const REFUSED_ORIGIN = { kind: 'refused', error: expect.objectContaining({ message: expect.stringMatching(/is not allowed to open a socket here$/), data: { code: 'ORIGIN_NOT_ALLOWED' } }) };

describe('cross-site WebSocket hijacking', () => {
  const namespace = uniqueNamespace('origin');
  let server: RedisServer;
  let redis: Redis;
  let log: CommandLog;
  let sameOrigin: SecurityApp; // default: only the app's own origin
  let listed: SecurityApp; // allowedOrigins: one front-end origin
  let sessionId: string;
  let cookie: string;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
    [sameOrigin, listed] = await Promise.all([
      startSecurityApp({ redis: server.url, redisNamespace: namespace }),
      startSecurityApp({ redis: server.url, redisNamespace: namespace, websocket: { allowedOrigins: ['https://app.example.com'] } }),
    ]);
    const user = new CookieClient(sameOrigin.url);
    sessionId = (await user.post('/login', { userId: 'victim' })).body.id;
    cookie = `SESSION=${user.cookies.get('SESSION')}`;
    log = await CommandLog.start(server.url);
  });

  afterAll(async () => {
    log.stop();
    await Promise.all([sameOrigin.app.close(), listed.app.close()]);
    redis.disconnect();
    await server.stop();
  });

  /** A websocket-transport handshake with browser headers; a connected socket is asked its session, then closed. */
  async function websocketHandshake(url: string, origin: string): Promise<HandshakeOutcome | { kind: 'connected'; sessionId: string | null }> {
    const outcome = await handshake(url, { headers: browserHeaders(origin, cookie) });
    if (outcome.kind !== 'connected') return outcome;
    const answer = await outcome.socket.timeout(3000).emitWithAck('whoami');
    outcome.socket.close();
    return { kind: 'connected', sessionId: answer.sessionId };
  }

  it('a page of another site, riding the user\'s valid cookie, is refused (websocket transport)', async () => {
    for (const origin of ['https://evil.example', 'null', sameOrigin.url.replace('127.0.0.1', 'localhost'), `${sameOrigin.url}.evil.example`, 'http://127.0.0.1']) {
      expect({ origin, outcome: await websocketHandshake(sameOrigin.url, origin) }).toEqual({ origin, outcome: REFUSED_ORIGIN });
    }
  });

  it('the same over long-polling, the transport browsers start with', async () => {
    expect(await pollingHandshake(sameOrigin.url, browserHeaders('https://evil.example', cookie))).toEqual({
      kind: 'refused',
      message: 'Origin https://evil.example is not allowed to open a socket here',
      code: 'ORIGIN_NOT_ALLOWED',
    });
    expect(await pollingHandshake(sameOrigin.url, browserHeaders(sameOrigin.url, cookie))).toEqual({ kind: 'connected' });
  });

  it('the app\'s own page connects under the user\'s session', async () => {
    expect(await websocketHandshake(sameOrigin.url, sameOrigin.url)).toEqual({ kind: 'connected', sessionId });
  });

  it('with allowedOrigins, exactly the listed origins connect (not look-alikes, not the app\'s own host)', async () => {
    expect(await websocketHandshake(listed.url, 'https://app.example.com')).toEqual({ kind: 'connected', sessionId });
    for (const origin of ['https://app.example.com.evil.example', 'http://app.example.com', 'https://evil.app.example.com', listed.url, 'null']) {
      expect({ origin, outcome: await websocketHandshake(listed.url, origin) }).toEqual({ origin, outcome: REFUSED_ORIGIN });
    }
  });

  it('a refused handshake never reaches the store: its session is neither loaded nor touched', async () => {
    const key = `${namespace}:sessions:{${sessionId}}`;
    const touchedBefore = await redis.hget(key, 'lastAccessedTime');
    log.clear();
    expect(await websocketHandshake(sameOrigin.url, 'https://evil.example')).toEqual(REFUSED_ORIGIN);
    expect(await pollingHandshake(sameOrigin.url, browserHeaders('https://evil.example', cookie))).toMatchObject({ kind: 'refused' });
    await log.settle();
    expect(log.commands.filter((args) => args.some((arg) => arg.includes(sessionId)))).toEqual([]);
    expect(await redis.hget(key, 'lastAccessedTime')).toBe(touchedBefore);
    // The check sees loads when there are some: an allowed handshake loads the session.
    await websocketHandshake(sameOrigin.url, sameOrigin.url);
    await log.settle();
    expect(log.commands.some((args) => args.includes(key))).toBe(true);
  });
});
