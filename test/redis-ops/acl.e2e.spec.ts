import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SessionModuleOptions } from 'nestjs-redis-session';
import signature from 'cookie-signature';
import { startAccountApp } from '../account/account-fixture-app.js';
import { startCompatApp } from '../express-session/compat-app.js';
import { eventually } from '../harness/eventually.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { startRedisTlsCluster, type RedisTlsCluster } from '../harness/redis-tls-cluster.js';
import { makeTlsCertificates, type TlsCertificates } from '../harness/tls-certificates.js';
import { CookieClient } from '../http/client.js';
import { startFixtureApp } from '../http/fixture-app.js';
import { recordUnhandledRejections } from '../http/host-process.js';
import { startWsFixtureApp } from '../websocket/fixture-app.js';
import { expectIdleExpiryClosesSocket, expectLoginWriteReadLogout } from '../websocket/session-round-trip.js';

/**
 * The ACL line of docs/deployment.md ("Least-privilege ACL user"), read from the page itself so
 * that the page and this test cannot drift: `ACL SETUSER <name> on ><password> <rules…>`.
 */
function documentedAclLine(): { name: string; password: string; rules: string[]; clusterRules: string[]; migrationRules: string[] } {
  const page = readFileSync(fileURLToPath(new URL('../../docs/deployment.md', import.meta.url)), 'utf8');
  const section = page.split(/^## /m).find((part) => part.startsWith('Least-privilege ACL user'));
  if (!section) throw new Error('docs/deployment.md has no "## Least-privilege ACL user" section');
  const block = /^```\n(ACL SETUSER [^\n]+)\n```$/m.exec(section);
  if (!block) throw new Error('the section has no fenced block holding an ACL SETUSER line');
  const [acl, setuser, name, on, password, ...rules] = block[1].trim().split(/\s+/);
  expect([acl, setuser, on, password.startsWith('>')]).toEqual(['ACL', 'SETUSER', 'on', true]);
  // "- **Redis Cluster**: add `<rules>`": what a Cluster needs beside the line.
  const cluster = /^- \*\*Redis Cluster\*\*: add `([^`]+)`/m.exec(section);
  if (!cluster) throw new Error('the section does not say what a Redis Cluster adds');
  // "- **`migrateFromExpressSession`**: add `<keys>` and `<commands>`".
  const migration = /^- \*\*`migrateFromExpressSession`\*\*: add `([^`]+)` and `([^`]+)`/m.exec(section);
  if (!migration) throw new Error('the section does not say what migrateFromExpressSession adds');
  return { name, password: password.slice(1), rules, clusterRules: cluster[1].split(' '), migrationRules: `${migration[1]} ${migration[2]}`.split(' ') };
}

/** What Redis' ACL LOG says it refused `user` (the command, or `config|get`-style subcommand). */
async function refusedTo(client: Redis, user: string): Promise<string[]> {
  const log = (await client.call('ACL', 'LOG')) as unknown[][];
  return log
    .map((entry) => Object.fromEntries(entry.flatMap((value, i) => (i % 2 === 0 ? [[value, entry[i + 1]]] : []))))
    .filter((fields) => fields.username === user)
    .map((fields) => String(fields.object));
}

const COMMAND_TIMEOUT_MS = 1000;
const IDLE_SECONDS = 2;

/** Start-up under one user of the server, as an app's configuration would give it. */
const urlOf = (server: RedisServer, user: string, password: string) => `redis://${user}:${password}@127.0.0.1:${server.port}`;

describe('least-privilege ACL user', () => {
  const documented = documentedAclLine();
  const apps: INestApplication[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const originalWarn = Logger.prototype.warn;
  const originalError = Logger.prototype.error;
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  let server: RedisServer;
  let admin: Redis;

  /** A user made of the documented rules with some taken out. */
  const userWithout = async (name: string, ...removed: string[]) => {
    for (const rule of removed) expect(documented.rules).toContain(rule); // the test takes out what the docs grant
    await admin.call('ACL', 'SETUSER', name, 'on', `>${documented.password}`, ...documented.rules.filter((rule) => !removed.includes(rule)));
    return urlOf(server, name, documented.password);
  };
  const startUp = (redis: SessionModuleOptions['redis'], requireRedisAtStartup = true, more: SessionModuleOptions = {}) =>
    startFixtureApp('express', { redis, requireRedisAtStartup, commandTimeoutMs: COMMAND_TIMEOUT_MS, ...more }, { logger: false });
  /** The start-up error's message (the start-up must fail). */
  const startUpError = async (redis: SessionModuleOptions['redis'], more: SessionModuleOptions = {}) => {
    const [outcome] = await Promise.allSettled([startUp(redis, true, more)]);
    if (outcome.status === 'fulfilled') {
      apps.push(outcome.value.app);
      throw new Error('start-up succeeded');
    }
    return (outcome.reason as Error).message;
  };
  /** What the error says is missing, between "need: " and ". Grant them". */
  const missingPart = (message: string) => /lacks permissions the sessions need: (.*)\. Grant them, e\.g\.: /.exec(message)?.[1];

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    Logger.prototype.warn = function (this: Logger, message: unknown, ...rest: unknown[]) {
      warnings.push(String(message));
      return originalWarn.call(this, message, ...rest);
    } as Logger['warn'];
    Logger.prototype.error = function (this: Logger, message: unknown, ...rest: unknown[]) {
      errors.push(String(message));
      return originalError.call(this, message, ...rest);
    } as Logger['error'];
    // CONFIG SET is not granted: the notifications the library would switch on are set by the server's configuration.
    server = await startRedisServer({ args: ['--notify-keyspace-events', 'Egx'] });
    admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
    await admin.call('ACL', 'SETUSER', documented.name, 'on', `>${documented.password}`, ...documented.rules);
  });

  afterAll(async () => {
    Logger.prototype.warn = originalWarn;
    Logger.prototype.error = originalError;
    await Promise.all(apps.map((app) => app.close()));
    await admin?.quit();
    await server?.stop();
    rejections.stop();
  });

  it("applies the documented line to Redis: the user exists and may not run what it was not granted", async () => {
    expect(await admin.call('ACL', 'DRYRUN', documented.name, 'HGETALL', 'spring:session:sessions:{x}')).toBe('OK');
    expect(await admin.call('ACL', 'DRYRUN', documented.name, 'HGETALL', 'other:key')).toMatch(/no permissions to access the 'other:key' key/);
    expect(await admin.call('ACL', 'DRYRUN', documented.name, 'CONFIG', 'GET', 'maxmemory')).toMatch(/no permissions to run the 'config/);
    expect(await admin.call('ACL', 'DRYRUN', documented.name, 'FLUSHALL')).toMatch(/no permissions/);
  });

  describe('the start-up check (requireRedisAtStartup: true)', () => {
    const cases: [string, string[], string][] = [
      ['no ZADD', ['+zadd'], 'ZADD on key spring:session:expirations:{0}'],
      ['no access to the event channel', ['&spring:session:event'], 'PUBLISH, SUBSCRIBE on channel spring:session:event'],
      ['no keyevent channels', ['&__keyevent@0__:del', '&__keyevent@0__:expired'], 'SUBSCRIBE on channel __keyevent@0__:del; SUBSCRIBE on channel __keyevent@0__:expired'],
    ];

    it.each(cases)('a user with %s: start-up fails, naming exactly what is missing and the ACL line that fixes it', async (_case, removed, missing) => {
      const name = `sessions-${removed.join('').replace(/[^a-z]/g, '')}`;
      const message = await startUpError(await userWithout(name, ...removed));
      expect(message).toContain(`EnableRedisHttpSession: the Redis user "${name}" at 127.0.0.1:${server.port} lacks permissions`);
      expect(missingPart(message)).toBe(missing);
      // The fix it suggests is the documented line, for this user.
      expect(message).toContain(`ACL SETUSER ${name} ${documented.rules.join(' ')} (see "Least-privilege ACL user" in docs/deployment.md)`);
      expect(message).not.toContain(documented.password);
    });

    it('a user without EVAL: start-up fails saying that EVAL is needed', async () => {
      const message = await startUpError(await userWithout('sessions-noeval', '+eval'));
      expect(missingPart(message)).toMatch(/^EVAL \(every session operation is a Lua script sent with EVAL/);
    });

    it('a user without access to the namespace: every command on its keys is named, per key', async () => {
      const message = await startUpError(await userWithout('sessions-nokeys', '~spring:session:*'));
      expect(missingPart(message)).toContain('EVAL, HGETALL, EXISTS, DEL, PERSIST, PTTL, HMGET, HGET, HSET, HDEL, PEXPIRE, RENAME on key spring:session:sessions:{x}');
      expect(missingPart(message)).toContain('ZADD, ZREM, ZRANGEBYSCORE on key spring:session:expirations:{0}');
    });

    it('an unknown user, or a wrong password: start-up fails with WRONGPASS, naming the address', async () => {
      for (const url of [urlOf(server, 'nobody', documented.password), urlOf(server, documented.name, 'not-the-password')]) {
        const message = await startUpError(url);
        expect(message).toContain(`Redis at 127.0.0.1:${server.port} is unreachable at start-up (requireRedisAtStartup)`);
        expect(message).toMatch(/WRONGPASS/);
      }
    });
  });

  it('without requireRedisAtStartup, a user lacking a permission: the app starts and the problem is logged once, as an error', async () => {
    const url = await userWithout('sessions-logged', '+zadd');
    const { app } = await startUp(url, false);
    try {
      const logged = await eventually(() => {
        const found = errors.filter((message) => message.includes('"sessions-logged"'));
        expect(found).toHaveLength(1);
        return found[0];
      });
      expect(missingPart(logged)).toBe('ZADD on key spring:session:expirations:{0}');
    } finally {
      await app.close(); // its sweeper would run EVALs while the next block counts them
    }
  });

  it('redis.db 1: the line as it is fails naming SELECT and that database\'s keyevent channels; changed as documented, it passes', async () => {
    const asIs = await startUpError(`${await userWithout('sessions-db')}/1`);
    expect(missingPart(asIs)).toBe('SUBSCRIBE on channel __keyevent@1__:del; SUBSCRIBE on channel __keyevent@1__:expired; SELECT');
    const changed = documented.rules.map((rule) => rule.replace('@0__', '@1__'));
    await admin.call('ACL', 'SETUSER', 'sessions-db', 'reset', 'on', `>${documented.password}`, ...changed, '+select');
    const { app } = await startUp(`${urlOf(server, 'sessions-db', documented.password)}/1`);
    await app.close();
  });

  describe('under the documented user', () => {
    const options = () => ({
      redis: urlOf(server, documented.name, documented.password),
      requireRedisAtStartup: true,
      maxInactiveIntervalInSeconds: IDLE_SECONDS,
      sweepIntervalMs: 200,
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
    });

    let warningsBefore = 0;

    beforeAll(async () => {
      warningsBefore = warnings.length;
      await admin.call('ACL', 'LOG', 'RESET');
    });

    it('the check is one round trip: start-up sends one EVAL (no request made, the sweeper not yet run)', async () => {
      const evals = async () => Number(/^cmdstat_eval:calls=(\d+)/m.exec(await admin.info('commandstats'))?.[1] ?? 0);
      const before = await evals();
      const { app } = await startUp(urlOf(server, documented.name, documented.password), true, { sweepIntervalMs: 60_000 });
      const after = await evals();
      await app.close();
      expect(after - before).toBe(1);
    });

    it('passes the start-up check; login, write and read work; logout and idle expiry close the sockets', async () => {
      const { app, url } = await startWsFixtureApp(options());
      apps.push(app);
      await expectLoginWriteReadLogout(url);
      await expectIdleExpiryClosesSocket(url, IDLE_SECONDS);
    });

    it('the principal index works: maximumSessions ends the oldest session, SessionRegistry lists the others', async () => {
      const { app, url } = await startAccountApp({ ...options(), maximumSessions: { max: 2, whenExceeded: 'expire-oldest' }, touchIntervalSeconds: 0 });
      apps.push(app);
      const devices: CookieClient[] = [];
      for (let i = 0; i < 3; i++) {
        const device = new CookieClient(url);
        expect((await device.post('/login', { user: 'lin' })).status).toBe(200);
        devices.push(device);
        await new Promise((resolve) => setTimeout(resolve, 20)); // distinct access times
      }
      expect((await devices[0].get('/me')).status).toBe(401); // the least recently used one was ended
      const listed = await devices[2].get('/sessions');
      expect(listed.status).toBe(200);
      expect(listed.body).toHaveLength(2);
    });

    it('said once per instance that CONFIG is not allowed, and Redis refused it nothing else', async () => {
      const about = warnings.slice(warningsBefore).filter((message) => /Could not enable keyspace notifications/.test(message));
      expect(about).toHaveLength(3); // the three apps of this block
      expect(about[0]).toMatch(/NOPERM/);
      // Redis did refuse it CONFIG (so its log records this user's refusals), and nothing else.
      const refused = await refusedTo(admin, documented.name);
      expect(refused).toContain('config|get');
      expect(refused.filter((object) => !object.startsWith('config'))).toEqual([]);
    });
  });

  describe('on a 3-master Redis Cluster over TLS, with the Cluster rules added', () => {
    let certificates: TlsCertificates;
    let cluster: RedisTlsCluster;
    let nodes: Redis[] = [];
    const clusterOption = (user: string) => ({
      cluster: [{ host: '127.0.0.1', port: cluster.nodes[0].tlsPort }],
      options: { redisOptions: { username: user, password: documented.password, tls: { ca: certificates.ca } } },
    });

    beforeAll(async () => {
      certificates = await makeTlsCertificates();
      cluster = await startRedisTlsCluster(certificates, { args: ['--notify-keyspace-events', 'Egx'] });
      // ACL users are per node: each node gets the same ones.
      nodes = cluster.nodes.map((node) => new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 1 }));
      for (const node of nodes) {
        await node.call('ACL', 'SETUSER', documented.name, 'on', `>${documented.password}`, ...documented.rules, ...documented.clusterRules);
        await node.call('ACL', 'SETUSER', 'sessions-noasking', 'on', `>${documented.password}`, ...documented.rules, ...documented.clusterRules.filter((rule) => rule !== '+asking'));
        await node.call('ACL', 'LOG', 'RESET');
      }
    }, 40_000);

    let app: INestApplication | undefined;

    afterAll(async () => {
      await app?.close(); // before its cluster goes
      await Promise.all(nodes.map((node) => node.quit()));
      await cluster?.stop();
      certificates?.remove();
    });

    it('a user without +asking: the check, sent to one master, names it', async () => {
      const message = await startUpError(clusterOption('sessions-noasking'));
      expect(missingPart(message)).toBe('ASKING');
      expect(message).toContain(`ACL SETUSER sessions-noasking ${[...documented.rules, ...documented.clusterRules].join(' ')} (see`);
    });

    it('the documented user passes the check; login, write, read and a socket closed on logout work; no node refused it anything but CONFIG and CLIENT SETNAME', async () => {
      let url: string;
      ({ app, url } = await startWsFixtureApp({ redis: clusterOption(documented.name), requireRedisAtStartup: true, commandTimeoutMs: COMMAND_TIMEOUT_MS }));
      await expectLoginWriteReadLogout(url);
      for (const node of nodes) {
        const refused = await refusedTo(node, documented.name);
        expect(refused).toContain('config|get'); // each master's own keyspace subscriber asked
        // ioredis names its Cluster subscriber and slot-refresh connections, and ignores a refusal (the docs say so).
        expect(refused.filter((object) => !object.startsWith('config') && object !== 'client|setname')).toEqual([]);
      }
    });
  });

  describe('with migrateFromExpressSession, which reads and deletes connect-redis\' keys', () => {
    const migrating = (user: string): SessionModuleOptions => ({
      redis: urlOf(server, user, documented.password),
      requireRedisAtStartup: true,
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      migrateFromExpressSession: { secrets: ['old-secret'] },
    });

    it('the line alone: start-up fails, naming what the migration needs on its keys', async () => {
      await admin.call('ACL', 'SETUSER', 'sessions-unmigrated', 'on', `>${documented.password}`, ...documented.rules);
      const message = await startUpError(urlOf(server, 'sessions-unmigrated', documented.password), { migrateFromExpressSession: { secrets: ['old-secret'] } });
      expect(missingPart(message)).toBe('EVAL, GET, DEL on key sess:x; GET, SET, DEL on key {sess:x}:spring:session:migrated');
      expect(message).toContain(`ACL SETUSER sessions-unmigrated ${documented.rules.join(' ')}`.replace('resetchannels', `${documented.migrationRules.filter((rule) => rule.startsWith('~')).join(' ')} resetchannels`));
    });

    it('the line plus the documented additions passes the check, and an old session is imported: read, then deleted', async () => {
      await admin.call('ACL', 'SETUSER', 'sessions-migrating', 'on', `>${documented.password}`, ...documented.rules, ...documented.migrationRules);
      const { app, url } = await startCompatApp(migrating('sessions-migrating'));
      apps.push(app);
      await admin.set('sess:old-id-1', JSON.stringify({ cookie: { originalMaxAge: null }, user: 'ada' }));
      const cookie = `connect.sid=${encodeURIComponent(`s:${signature.sign('old-id-1', 'old-secret')}`)}`;
      const response = await fetch(`${url}/attrs`, { headers: { cookie } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { spread: object }).spread).toMatchObject({ user: 'ada' });
      expect(await admin.exists('sess:old-id-1')).toBe(0);
      expect((await refusedTo(admin, 'sessions-migrating')).filter((object) => !object.startsWith('config'))).toEqual([]);
    });
  });

  it('no unhandled rejection', () => {
    expect(rejections.reasons).toEqual([]);
  });
});
