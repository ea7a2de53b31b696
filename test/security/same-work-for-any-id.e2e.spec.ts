import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateSessionId, isValidSessionId, type SessionRepository } from 'nestjs-redis-session';
import { CommandLog } from '../harness/command-log.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from '../http/client.js';
import { malformedValues } from '../http/malformed-values.js';
import { handshake } from '../websocket/socket-client.js';
import { startSecurityApp, type SecurityApp } from './support/security-app.js';

/**
 * Timing, structurally (no clocks): a client must not learn whether an id exists from how much work
 * the server does before the store answers. The shape check knows nothing of the store; every
 * well-formed id, known or not, costs exactly one lookup of its exact key (the same Redis command,
 * id aside); a malformed one costs no lookup at all. A timed assertion would flake; these cannot.
 */

const base64 = (id: string) => Buffer.from(id, 'utf8').toString('base64');
const unbase64 = (value: string) => (/^[A-Za-z0-9+/]{38}==$/.test(value) ? Buffer.from(value, 'base64').toString('utf8') : '');

/** Records every findById the repository is asked, wherever from (HTTP resolver, socket handshake). */
function recordLookups(repository: SessionRepository): string[][] {
  const calls: string[][] = [];
  const original = repository.findById.bind(repository);
  repository.findById = ((id: string, ...rest: unknown[]) => {
    calls.push([id, JSON.stringify(rest)]);
    return (original as (...args: unknown[]) => ReturnType<SessionRepository['findById']>)(id, ...rest);
  }) as SessionRepository['findById'];
  return calls;
}

it('the id shape check cannot consult the store: its module imports nothing but node:crypto', () => {
  const source = readFileSync(fileURLToPath(new URL('../../libs/session/src/core/session-id.ts', import.meta.url)), 'utf8');
  expect([...source.matchAll(/^import .* from '([^']+)';$/gm)].map(([, module]) => module)).toEqual(['node:crypto']);
  const known = new Set(Array.from({ length: 1000 }, () => generateSessionId()));
  const unknown = Array.from({ length: 1000 }, () => generateSessionId());
  // Same verdict for every well-formed id, whether or not anyone holds it.
  expect([...known, ...unknown].every((id) => isValidSessionId(id))).toBe(true);
});

describe.each(['memory', 'redis'] as const)('work before the store answers (%s store)', (store) => {
  const namespace = uniqueNamespace('same-work');
  let server: RedisServer | undefined;
  let log: CommandLog | undefined;
  let cookieApp: SecurityApp;
  let headerApp: SecurityApp;
  let cookieLookups: string[][];
  let headerLookups: string[][];
  let knownId: string;
  let knownToken: string;
  const unknownId = generateSessionId();

  beforeAll(async () => {
    const options = { store, redisNamespace: namespace, ...(store === 'redis' ? { redis: (server = await startRedisServer()).url } : {}) };
    [cookieApp, headerApp] = await Promise.all([startSecurityApp(options), startSecurityApp({ ...options, idResolver: 'header' })]);
    knownId = (await new CookieClient(cookieApp.url).post('/login', { userId: 'known' })).body.id;
    knownToken = (await fetch(`${headerApp.url}/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"a","value":1}' })).headers.get('x-auth-token')!;
    cookieLookups = recordLookups(cookieApp.repository);
    headerLookups = recordLookups(headerApp.repository);
    if (server) log = await CommandLog.start(server.url);
  });

  afterAll(async () => {
    log?.stop();
    await Promise.all([cookieApp.app.close(), headerApp.app.close()]);
    await server?.stop();
  });

  /** The lookups one request causes. */
  async function lookupsOf(calls: string[][], request: () => Promise<unknown>): Promise<string[][]> {
    const from = calls.length;
    await request();
    return calls.slice(from);
  }

  const peekWithCookie = (value: string) => () => fetch(`${cookieApp.url}/attributes`, { headers: { cookie: `SESSION=${value}` } });
  const peekWithToken = (value: string) => () => fetch(`${headerApp.url}/attributes`, { headers: { 'x-auth-token': value } });

  it('cookie: a known and an unknown id each cost one lookup of exactly that id, made the same way', async () => {
    const known = await lookupsOf(cookieLookups, peekWithCookie(base64(knownId)));
    const unknown = await lookupsOf(cookieLookups, peekWithCookie(base64(unknownId)));
    expect(known).toEqual([[knownId, expect.any(String)]]);
    expect(unknown).toEqual([[unknownId, known[0][1]]]);
  });

  it('X-Auth-Token: the same', async () => {
    const known = await lookupsOf(headerLookups, peekWithToken(knownToken));
    const unknown = await lookupsOf(headerLookups, peekWithToken(unknownId));
    expect(known).toEqual([[knownToken, expect.any(String)]]);
    expect(unknown).toEqual([[unknownId, known[0][1]]]);
  });

  it('socket handshake (cookie or auth.token): the same', async () => {
    for (const options of [{ cookie: `SESSION=${base64(knownId)}` }, { token: knownId }]) {
      const known = await lookupsOf(cookieLookups, () => handshake(cookieApp.url, options).then((o) => o.kind === 'connected' && o.socket.close()));
      expect(known).toEqual([[knownId, expect.any(String)]]);
    }
    for (const options of [{ cookie: `SESSION=${base64(unknownId)}` }, { token: unknownId }]) {
      const unknown = await lookupsOf(cookieLookups, () => handshake(cookieApp.url, options));
      expect(unknown).toEqual([[unknownId, expect.any(String)]]);
    }
  });

  it('malformed values never reach the store: the shape is checked before any lookup', async () => {
    for (const { label, value, unknownId: wellFormed } of malformedValues(knownId, base64, unbase64)) {
      if (wellFormed || /[\r\n\0]/.test(value) || /[^\x20-\xff]/.test(value)) continue; // fetch cannot send those (test/fuzz sends them raw)
      expect({ label, lookups: await lookupsOf(cookieLookups, peekWithCookie(value)) }).toEqual({ label, lookups: [] });
      expect({ label, lookups: await lookupsOf(cookieLookups, () => handshake(cookieApp.url, { auth: { token: value } })) }).toEqual({ label, lookups: [] });
    }
    for (const { label, value, unknownId: wellFormed } of malformedValues(knownToken, (id) => id, (id) => id)) {
      if (wellFormed || /[\r\n\0]/.test(value) || /[^\x20-\xff]/.test(value)) continue;
      expect({ label, lookups: await lookupsOf(headerLookups, peekWithToken(value)) }).toEqual({ label, lookups: [] });
    }
  });

  // Only Redis has commands to compare.
  if (store === 'redis') it('Redis: a known and an unknown id cost the very same command sent to Redis, the id and the clock aside', async () => {
    const commandsFor = async (id: string) => {
      await log!.settle();
      log!.clear();
      await peekWithCookie(base64(id))();
      await log!.settle();
      return log!.clientCommands
        .filter((args) => args.some((arg) => arg.includes(id)))
        .map((args) => args.map((arg) => arg.replace(id, '<id>').replace(/^\d{13}$/, '<now>')));
    };
    const lookup = ['hgetall', `${namespace}:sessions:{<id>}`];
    const known = await commandsFor(knownId);
    // The lookup is all that is sent before Redis answers; only a live session then gets its touch, when due.
    expect(known[0]).toEqual(lookup);
    expect(known.slice(1)).toEqual(known.length > 1 ? [['eval', expect.stringContaining("redis.call('HMGET'"), '1', `${namespace}:sessions:{<id>}`, '<now>']] : []);
    expect(await commandsFor(unknownId)).toEqual([lookup]);
  });
});
