import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from '../http/client.js';
import { startFixtureApp, type Platform } from '../http/fixture-app.js';
import { recordUnhandledRejections } from '../http/host-process.js';
import { CommandLog } from '../harness/command-log.js';
import {
  base64, controlText, cookieHeader, headerText, hugeText, nearValidCookieValues, nearValidTokens, utf8Bytes, wellFormedId,
} from './support/id-arbitraries.js';
import { allKeys, sessionKeyUse } from './support/key-audit.js';
import { isLookedUp } from './support/candidates.js';
import { rawExchange, type RawExchange } from '../harness/raw-exchange.js';

/**
 * Property-based fuzz of the ids a client sends over HTTP (the SESSION cookie, X-Auth-Token), on
 * raw sockets so that any byte can be sent. Whatever arrives: never a 5xx (nor a dropped
 * connection), never an unhandled rejection, no session found unless the value carries the live
 * one, and Redis (private, under MONITOR) only ever sees exact keys of well-formed ids that the
 * server created or the client literally sent.
 */

type Route = 'peek' | 'set';
const route = fc.constantFrom<Route>('peek', 'set');

describe.each<Platform>(['express', 'fastify'])('session id fuzz over HTTP on %s', (platform) => {
  const cookieNamespace = uniqueNamespace('fuzz-cookie');
  const headerNamespace = uniqueNamespace('fuzz-header');
  let server: RedisServer;
  let redis: Redis;
  let log: CommandLog;
  let cookieApp: { app: INestApplication; url: string };
  let headerApp: { app: INestApplication; url: string };
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  let cookieLiveId: string;
  let headerLiveId: string;
  /** Ids the server handed out (well-formed ids Redis may see). */
  const created = new Set<string>();
  /** Every header value sent, to tell where an id Redis saw came from. */
  const sent: string[] = [];

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    server = await startRedisServer();
    redis = new Redis(server.url);
    [cookieApp, headerApp] = await Promise.all([
      startFixtureApp(platform, { redis: server.url, redisNamespace: cookieNamespace }),
      startFixtureApp(platform, { redis: server.url, redisNamespace: headerNamespace, idResolver: 'header' }),
    ]);
    cookieLiveId = (await new CookieClient(cookieApp.url).post('/login', { userId: 'cookie-user' })).body.id;
    headerLiveId = (await new CookieClient(headerApp.url).post('/login', { userId: 'header-user' })).body.id;
    created.add(cookieLiveId).add(headerLiveId);
    log = await CommandLog.start(server.url);
  });

  afterAll(async () => {
    rejections.stop();
    log.stop();
    await Promise.all([cookieApp.app.close(), headerApp.app.close()]);
    redis.disconnect();
    await server.stop();
  });

  /** Sends one request with the given header; checks what every answer must satisfy. */
  async function probe(url: string, which: Route, header: string): Promise<RawExchange> {
    sent.push(header);
    const response =
      which === 'peek'
        ? await rawExchange(url, 'GET', '/peek', [header])
        : await rawExchange(url, 'POST', '/set', [header], JSON.stringify({ name: 'probe', value: 1 }));
    if (which === 'set' && response.status === 200) created.add(JSON.parse(response.body).id);
    // 0 would be a connection closed without an answer.
    const answered = response.status >= 100 && response.status < 500;
    expect({ header: header.slice(0, 200), status: response.status, answered }).toEqual({ header: header.slice(0, 200), status: response.status, answered: true });
    return response;
  }

  /** A value that does not carry the live id finds no session, and a write starts a fresh one. */
  function expectNoLiveSession(which: Route, response: RawExchange, liveId: string): void {
    if (response.status !== 200) return;
    const body = JSON.parse(response.body);
    if (which === 'peek') expect(body).toEqual({ exists: false, userId: null });
    else expect(body.id).not.toBe(liveId);
  }

  const cookieCase = (valueOrHeader: fc.Arbitrary<string>, numRuns: number, wholeHeader = false) =>
    fc.assert(
      fc.asyncProperty(valueOrHeader, route, async (text, which) => {
        const header = wholeHeader ? `Cookie: ${text}` : `Cookie: SESSION=${text}`;
        const response = await probe(cookieApp.url, which, header);
        if (!text.includes(base64(cookieLiveId))) expectNoLiveSession(which, response, cookieLiveId);
      }),
      { numRuns },
    );

  it('cookie: any header text', () => cookieCase(headerText(300), 400, true));

  it('cookie: near-valid ids (edited live and well-formed values, base64 of near-ids)', () => cookieCase(nearValidCookieValues(cookieLiveId), 400));

  it('cookie: control characters and raw bytes', () => cookieCase(controlText(60), 150));

  it('cookie: UTF-8 text', () => cookieCase(fc.string({ unit: 'binary', maxLength: 60 }).map(utf8Bytes), 150));

  it('cookie: huge values', () => cookieCase(hugeText, 30));

  it('cookie: many SESSION cookies; the live one wins and is not rewritten when among the first three ids, is not looked up behind them', async () => {
    const noise = fc.oneof(nearValidCookieValues(cookieLiveId), headerText(40), wellFormedId.map(base64));
    await fc.assert(
      fc.asyncProperty(cookieHeader(noise), cookieHeader(noise), fc.boolean(), route, async (before, after, withLive, which) => {
        const text = withLive ? `${before}; SESSION=${base64(cookieLiveId)}; ${after}` : `${before}; ${after}`;
        const response = await probe(cookieApp.url, which, `Cookie: ${text}`);
        if (!withLive || !isLookedUp(text, cookieLiveId)) {
          if (!isLookedUp(text, cookieLiveId)) expectNoLiveSession(which, response, cookieLiveId);
          return;
        }
        expect(response.status).toBe(200);
        const body = JSON.parse(response.body);
        if (which === 'peek') expect(body).toEqual({ exists: true, userId: 'cookie-user' });
        else expect({ id: body.id, setCookie: response.headers.get('set-cookie') }).toEqual({ id: cookieLiveId, setCookie: undefined });
      }),
      { numRuns: 250 },
    );
  });

  it('X-Auth-Token: any text, near-valid ids, control characters, UTF-8', async () => {
    const value = fc.oneof(headerText(100), nearValidTokens(headerLiveId), controlText(60), fc.string({ unit: 'binary', maxLength: 40 }).map(utf8Bytes));
    await fc.assert(
      fc.asyncProperty(value, route, async (text, which) => {
        const response = await probe(headerApp.url, which, `X-Auth-Token: ${text}`);
        if (!text.includes(headerLiveId)) expectNoLiveSession(which, response, headerLiveId);
      }),
      { numRuns: 500 },
    );
  });

  it('Redis only ever saw exact keys of well-formed ids, each created by the server or sent verbatim by the client; no key outside the namespaces', async () => {
    await log.settle();
    for (const [namespace, wire] of [[cookieNamespace, base64], [headerNamespace, (id: string) => id]] as const) {
      const use = sessionKeyUse(log.commands, namespace);
      expect(use.malformed).toEqual([]);
      expect(use.ids.size).toBeGreaterThan(1); // the check above did see lookups
      const unexplained = [...use.ids].filter((id) => !created.has(id) && !sent.some((header) => header.includes(wire(id))));
      expect(unexplained).toEqual([]);
    }
    const stray = (await allKeys(redis)).filter((key) => !key.startsWith(`${cookieNamespace}:`) && !key.startsWith(`${headerNamespace}:`));
    expect(stray).toEqual([]);
    expect(rejections.reasons).toEqual([]);
  });
});
