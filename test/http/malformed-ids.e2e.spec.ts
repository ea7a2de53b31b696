import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { CommandLog } from '../harness/command-log.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from './client.js';
import { startFixtureApp, type Platform } from './fixture-app.js';
import { malformedValues, type MalformedValue } from './malformed-values.js';
import { rawRequest, type RawResponse } from './raw-http.js';

const base64 = (id: string) => Buffer.from(id, 'utf8').toString('base64');
/** The cookie's wire format: standard base64 of the 28-char id, padded (40 chars), nothing else. */
const unbase64 = (value: string) => (/^[A-Za-z0-9+/]{38}==$/.test(value) ? Buffer.from(value, 'base64').toString('utf8') : '');
const asIs = (value: string) => value;
const cookieValues = (liveId: string) => malformedValues(liveId, base64, unbase64);
const headerValues = (liveId: string) => malformedValues(liveId, asIs, asIs);

describe.each<Platform>(['express', 'fastify'])('malformed session ids on %s', (platform) => {
  const cookieNamespace = uniqueNamespace('malformed-cookie');
  const headerNamespace = uniqueNamespace('malformed-header');
  let server: RedisServer;
  let redis: Redis;
  let log: CommandLog;
  let cookieApp: { app: INestApplication; url: string };
  let headerApp: { app: INestApplication; url: string };
  let cookieLiveId: string;
  let headerLiveId: string;
  /** Ids Redis may legitimately see while the malformed requests run. */
  const expectedIds = new Set<string>();
  const sessionKeys = new Set<string>();

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
    cookieApp = await startFixtureApp(platform, { redis: server.url, redisNamespace: cookieNamespace });
    headerApp = await startFixtureApp(platform, { redis: server.url, redisNamespace: headerNamespace, idResolver: 'header' });
    const cookieUser = new CookieClient(cookieApp.url);
    cookieLiveId = (await cookieUser.post('/login', { userId: 'cookie-user' })).body.id;
    headerLiveId = (await new CookieClient(headerApp.url).post('/login', { userId: 'header-user' })).body.id;
    expectedIds.add(cookieLiveId).add(headerLiveId);
    log = await CommandLog.start(server.url);
  });

  afterAll(async () => {
    log.stop();
    await cookieApp.app.close();
    await headerApp.app.close();
    redis.disconnect();
    await server.stop();
  });

  /** Reads, then writes, with the given request headers; checks what every such request must satisfy. */
  async function probe(url: string, headerLines: string[], label: string): Promise<{ peek: RawResponse; set: RawResponse }> {
    const peek = await rawRequest(url, 'GET', '/peek', headerLines);
    const set = await rawRequest(url, 'POST', '/set', headerLines, JSON.stringify({ name: 'probe', value: 1 }));
    for (const response of [peek, set]) {
      expect({ label, status: response.status }).toEqual({ label, status: expect.any(Number) });
      expect({ label, serverError: response.status >= 500 }).toEqual({ label, serverError: false });
    }
    if (set.status === 200) expectedIds.add(JSON.parse(set.body).id);
    return { peek, set };
  }

  function expectFreshSession(value: MalformedValue, { peek, set }: { peek: RawResponse; set: RawResponse }, liveId: string): void {
    if (peek.status === 200) expect({ label: value.label, body: JSON.parse(peek.body) }).toEqual({ label: value.label, body: { exists: false, userId: null } });
    if (set.status === 200) {
      const id = JSON.parse(set.body).id;
      expect({ label: value.label, fresh: id !== liveId && id !== value.unknownId }).toEqual({ label: value.label, fresh: true });
    }
  }

  it('cookie: 50 malformed SESSION values never give a 5xx, find no session, and a write starts a fresh one', async () => {
    for (const value of cookieValues(cookieLiveId)) {
      if (value.unknownId) expectedIds.add(value.unknownId);
      const responses = await probe(cookieApp.url, [`Cookie: SESSION=${value.value}`], value.label);
      expectFreshSession(value, responses, cookieLiveId);
      if (responses.peek.status === 200) expect(responses.peek.headers.get('set-cookie')).toBeUndefined();
    }
  });

  it('header: the same values in X-Auth-Token never give a 5xx, find no session, and a write starts a fresh one', async () => {
    for (const value of headerValues(headerLiveId)) {
      if (value.unknownId) expectedIds.add(value.unknownId);
      const responses = await probe(headerApp.url, [`X-Auth-Token: ${value.value}`], value.label);
      expectFreshSession(value, responses, headerLiveId);
      if (responses.peek.status === 200) expect(responses.peek.headers.get('x-auth-token')).toBeUndefined();
    }
  });

  it('several SESSION cookies: the live one wins, wherever it is, and is not rewritten', async () => {
    const live = base64(cookieLiveId);
    const unknown = base64('u'.repeat(28));
    expectedIds.add('u'.repeat(28));
    const cases: [string, string[]][] = [
      ['an unknown id, then the live one', [`Cookie: SESSION=${unknown}; SESSION=${live}`]],
      ['garbage, then the live one', [`Cookie: SESSION=***; SESSION=${live}`]],
      ['other cookies named like prototype keys first', [`Cookie: __proto__=x; constructor=y; toString=z; SESSION=${live}`]],
      ['two Cookie header lines', ['Cookie: SESSION=%%%', `Cookie: SESSION=${live}`]],
      ['the live value quoted', [`Cookie: SESSION="${live}"`]],
    ];
    for (const [label, lines] of cases) {
      const { peek, set } = await probe(cookieApp.url, lines, label);
      expect({ label, status: peek.status, body: JSON.parse(peek.body) }).toEqual({ label, status: 200, body: { exists: true, userId: 'cookie-user' } });
      expect({ label, id: JSON.parse(set.body).id, cookie: set.headers.get('set-cookie') }).toEqual({ label, id: cookieLiveId, cookie: undefined });
    }
  });

  it('cookies that are not ours are ignored', async () => {
    const live = base64(cookieLiveId);
    for (const line of [`Cookie: session=${live}`, `Cookie: XSESSION=${live}`, `Cookie: SESSION`, `Cookie: =${live}`, 'Cookie: ;;;;']) {
      const { peek } = await probe(cookieApp.url, [line], line);
      expect({ line, body: JSON.parse(peek.body) }).toEqual({ line, body: { exists: false, userId: null } });
    }
  });

  it('none of those values reached Redis: only exact keys of well-formed ids were ever used', async () => {
    await log.settle();
    expect(log.commands.length).toBeGreaterThan(0);
    const keyPattern = (namespace: string) => new RegExp(`^${namespace}:sessions:\\{([A-Za-z0-9_-]{28})\\}$`);
    for (const args of log.commands) {
      for (const arg of args) {
        for (const namespace of [cookieNamespace, headerNamespace]) {
          if (!arg.startsWith(`${namespace}:sessions:`)) continue;
          const id = keyPattern(namespace).exec(arg)?.[1];
          expect({ key: arg, expected: id !== undefined && expectedIds.has(id) }).toEqual({ key: arg, expected: true });
          sessionKeys.add(arg);
        }
      }
    }
    // Lookups did happen (so the check above saw something): the live and the unknown well-formed ids.
    expect(sessionKeys).toContain(`${cookieNamespace}:sessions:{${cookieLiveId}}`);
    expect(sessionKeys).toContain(`${cookieNamespace}:sessions:{${'u'.repeat(28)}}`);

    const everything = log.commands.flat();
    const legitimate = [...expectedIds];
    for (const { label, value, unknownId } of [...cookieValues(cookieLiveId), ...headerValues(headerLiveId)]) {
      const needle = value.trim();
      if (unknownId || needle.length < 3 || legitimate.some((id) => id.includes(needle))) continue;
      const carriers = everything.filter((arg) => arg.includes(needle));
      expect({ label, carriers }).toEqual({ label, carriers: [] });
    }
  });
});
