import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { SessionModuleOptions } from 'nestjs-redis-session';
import { eventually } from '../harness/eventually.js';
import { freePort, startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { startRedisTlsCluster, type RedisTlsCluster } from '../harness/redis-tls-cluster.js';
import { makeTlsCertificates, tlsServerArgs, type TlsCertificates } from '../harness/tls-certificates.js';
import { CookieClient } from '../http/client.js';
import { startFixtureApp } from '../http/fixture-app.js';
import { recordUnhandledRejections } from '../http/host-process.js';
import { startWsFixtureApp } from '../websocket/fixture-app.js';
import { expectIdleExpiryClosesSocket, expectLoginWriteReadLogout } from '../websocket/session-round-trip.js';

const COMMAND_TIMEOUT_MS = 1000;
/** Time allowed beyond the command timeout for building the app. */
const SLACK_MS = 1500;
const IDLE_SECONDS = 2;
const UNAVAILABLE = { statusCode: 503, error: 'Service Unavailable', message: 'The session store is unavailable; please retry shortly' };
/** What Node says of a certificate chain it cannot verify against the CAs it trusts. */
const UNVERIFIED = /self-signed certificate in certificate chain|unable to verify the first certificate/;

/** One connection of CLIENT LIST: the local port it reached and how many channels it is subscribed to. */
interface ClientEntry {
  id: number;
  localPort: number;
  subscriptions: number;
}

async function clientList(admin: Redis): Promise<ClientEntry[]> {
  const text = (await admin.client('LIST')) as string;
  return text.trim().split('\n').map((line) => {
    const fields = Object.fromEntries(line.trim().split(' ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
    return { id: Number(fields.id), localPort: Number(fields.laddr.split(':').at(-1)), subscriptions: Number(fields.sub) };
  });
}

async function timed<T>(action: () => Promise<T>): Promise<{ outcome: PromiseSettledResult<T>; ms: number }> {
  const start = Date.now();
  const [outcome] = await Promise.allSettled([action()]);
  return { outcome, ms: Date.now() - start };
}

describe('Redis over TLS', () => {
  const apps: INestApplication[] = [];
  const errors: string[] = [];
  const originalError = Logger.prototype.error;
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  let certificates: TlsCertificates;
  let server: RedisServer;
  let tlsPort = 0;
  /** On the plain port: the test's own look at the server. */
  let admin: Redis;

  const tlsOption = (tls: Record<string, unknown>): SessionModuleOptions['redis'] => ({ host: '127.0.0.1', port: tlsPort, tls });
  const startUp = (redis: SessionModuleOptions['redis'], requireRedisAtStartup: boolean) =>
    startFixtureApp('express', { redis, requireRedisAtStartup, commandTimeoutMs: COMMAND_TIMEOUT_MS }, { logger: false });
  const refusedStartUp = async (redis: SessionModuleOptions['redis']) => {
    const { outcome, ms } = await timed(() => startUp(redis, true));
    if (outcome.status === 'fulfilled') {
      apps.push(outcome.value.app);
      throw new Error('start-up succeeded');
    }
    return { message: (outcome.reason as Error).message, ms };
  };

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    Logger.prototype.error = function (this: Logger, message: unknown, ...rest: unknown[]) {
      errors.push(String(message));
      return originalError.call(this, message, ...rest);
    } as Logger['error'];
    certificates = await makeTlsCertificates();
    server = await startRedisServer({
      args: async (port) => {
        tlsPort = await freePort();
        while (tlsPort === port) tlsPort = await freePort();
        return [...tlsServerArgs(certificates, tlsPort), '--notify-keyspace-events', 'Egx'];
      },
    });
    admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    Logger.prototype.error = originalError;
    await Promise.all(apps.map((app) => app.close()));
    await admin?.quit();
    await server?.stop();
    certificates?.remove();
    rejections.stop();
  });

  describe('with the test CA trusted', () => {
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      ({ app, url } = await startWsFixtureApp({
        redis: tlsOption({ ca: certificates.ca, servername: 'localhost' }),
        requireRedisAtStartup: true,
        maxInactiveIntervalInSeconds: IDLE_SECONDS,
        sweepIntervalMs: 200,
        commandTimeoutMs: COMMAND_TIMEOUT_MS,
      }));
      apps.push(app);
    });

    afterAll(() => app.close());

    it("the module's connections, its subscriber included, are on the TLS port: none but the test's own on the plain one", async () => {
      const adminId = Number(await admin.client('ID'));
      const clients = await clientList(admin);
      expect(clients.filter((client) => client.localPort === server.port).map((client) => client.id)).toEqual([adminId]);
      const overTls = clients.filter((client) => client.localPort === tlsPort);
      expect(overTls.length).toBeGreaterThanOrEqual(2);
      // The subscriber: its own channel and the two keyevent channels.
      expect(overTls.map((client) => client.subscriptions)).toContain(3);
    });

    it('login, write and read work over TLS; logout closes the socket', async () => {
      await expectLoginWriteReadLogout(url);
    });

    it('idle expiry closes the socket', async () => {
      await expectIdleExpiryClosesSocket(url, IDLE_SECONDS);
    });
  });

  describe('a server the client cannot verify', () => {
    it('a wrong CA, with requireRedisAtStartup: start-up fails within about the command timeout, naming the address and the verification failure', async () => {
      const { message, ms } = await refusedStartUp(tlsOption({ ca: certificates.wrongCa }));
      expect(message).toContain(`Redis at 127.0.0.1:${tlsPort} is unreachable at start-up (requireRedisAtStartup)`);
      expect(message).toMatch(UNVERIFIED);
      expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
    });

    it('a rediss:// URL, whose server no CA of Node trusts: start-up fails the same way', async () => {
      const { message } = await refusedStartUp(`rediss://127.0.0.1:${tlsPort}`);
      expect(message).toContain(`Redis at 127.0.0.1:${tlsPort} is unreachable at start-up (requireRedisAtStartup)`);
      expect(message).toMatch(UNVERIFIED);
    });

    it('a certificate for another name (servername): start-up fails naming the mismatch', async () => {
      const { message } = await refusedStartUp(tlsOption({ ca: certificates.ca, servername: 'sessions.example' }));
      expect(message).toContain(`Redis at 127.0.0.1:${tlsPort} is unreachable at start-up`);
      expect(message).toMatch(/does not match certificate's altnames/);
    });

    it('a wrong CA, without requireRedisAtStartup: the app starts, session routes get 503, and the error is logged once', async () => {
      const errorsBefore = errors.length;
      const { app, url } = await startUp(tlsOption({ ca: certificates.wrongCa }), false);
      apps.push(app);
      expect((await new CookieClient(url).get('/plain')).status).toBe(200);
      for (let i = 0; i < 3; i++) {
        const { outcome, ms } = await timed(() => new CookieClient(url).post('/set', { name: 'a', value: 1 }));
        expect(outcome).toMatchObject({ status: 'fulfilled', value: { status: 503, body: UNAVAILABLE } });
        expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
      }
      // Reconnection attempts fail every few hundred ms meanwhile; the log says it once (throttled to once a minute).
      const logged = errors.slice(errorsBefore).filter((message) => message.startsWith('Redis connection error'));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatch(UNVERIFIED);
    });
  });

  describe('a Redis Cluster over TLS', () => {
    let cluster: RedisTlsCluster;
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      cluster = await startRedisTlsCluster(certificates, { args: ['--notify-keyspace-events', 'Egx'] });
      ({ app, url } = await startWsFixtureApp({
        redis: { cluster: [{ host: '127.0.0.1', port: cluster.nodes[0].tlsPort }], options: { redisOptions: { tls: { ca: certificates.ca } } } },
        requireRedisAtStartup: true,
        commandTimeoutMs: COMMAND_TIMEOUT_MS,
      }));
      apps.push(app);
    }, 40_000);

    afterAll(async () => {
      await app?.close();
      await cluster?.stop();
    });

    it('the Cluster client found every master over TLS; login, write, read, and logout closing the socket work', async () => {
      await expectLoginWriteReadLogout(url);

      // Every master has the module's connections on its TLS port (a keyspace subscriber each, at least), none on its plain port but the CLI's own.
      for (const node of cluster.nodes) {
        const lines = (await cluster.cli(node.port, 'client', 'list')).split('\n');
        const ports = lines.map((line) => Number(/ laddr=\S+:(\d+) /.exec(line)?.[1]));
        expect({ node: node.port, plain: ports.filter((port) => port === node.port).length }).toEqual({ node: node.port, plain: 1 });
        expect({ node: node.port, tls: ports.filter((port) => port === node.tlsPort).length >= 2 }).toEqual({ node: node.port, tls: true });
      }
    });
  });

  it('nothing was left as an unhandled rejection', async () => {
    await eventually(() => expect(rejections.reasons).toEqual([]), 500);
  });
});
