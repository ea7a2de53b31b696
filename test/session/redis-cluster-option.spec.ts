import { afterEach, describe, expect, it } from '@jest/globals';
import { ConsoleLogger, Logger, type LoggerService } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { SessionStoreUnavailableError, type SessionModuleOptions } from 'nestjs-redis-session';
import { RedisSessionRepository } from '../../libs/session/src/redis/redis-session-repository.js';
import { closeRedis, connectRedis, DISCONNECT_TIMEOUT_MS, type RedisConnection } from '../../libs/session/src/redis/redis-connection.js';
import { RedisKeys } from '../../libs/session/src/redis/redis-keys.js';
import { resolveSessionOptions } from '../../libs/session/src/session-options.js';
import { startRedisCluster, type RedisCluster } from '../harness/redis-cluster.js';
import { uniqueNamespace } from '../harness/redis.js';
import { freePort } from '../harness/redis-server.js';
import { settingsOf } from './support/repositories.js';

/** `redis: { cluster }` and `redis+cluster://` URLs: checked at start-up, and made into a Cluster with the module's defaults. */
describe('the redis option for a Redis Cluster', () => {
  const redisOf = (redis: SessionModuleOptions['redis']) => resolveSessionOptions({ redis }).redis;

  it('reads a redis+cluster:// URL as the seed nodes, with credentials and TLS', () => {
    expect(redisOf('redis+cluster://10.0.0.1:7000,10.0.0.2,cache.internal:7002')).toEqual({
      cluster: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: 'cache.internal', port: 7002 },
      ],
      options: { redisOptions: {} },
    });
    expect(redisOf('rediss+cluster://app:p%40ss%3Aword@[::1]:7000/')).toEqual({
      cluster: [{ host: '::1', port: 7000 }],
      options: { redisOptions: { username: 'app', password: 'p@ss:word', tls: {} } },
    });
    expect(redisOf('redis+cluster://:secret@10.0.0.1:7000')).toEqual({ cluster: [{ host: '10.0.0.1', port: 7000 }], options: { redisOptions: { password: 'secret' } } });
  });

  it.each([
    ['redis+cluster://'],
    ['redis+cluster://10.0.0.1:7000,'],
    ['redis+cluster://10.0.0.1:70000'],
    ['redis+cluster://10.0.0.1:7000/1'],
    ['redis+cluster://10.0.0.1:7000?db=1'],
    ['redis+cluster://a b:7000'],
  ])('refuses the malformed cluster URL %s at start-up, naming the redis option', (url) => {
    expect(() => redisOf(url)).toThrow(/invalid option "redis": .*redis\+cluster:\/\/|invalid option "redis": .* is not a host:port seed node/);
  });

  it('keeps the credentials of a malformed cluster URL out of the error', () => {
    expect(() => redisOf('redis+cluster://app:s3cret@10.0.0.1:7000/0')).toThrow('got "redis+cluster://***@10.0.0.1:7000/0"');
    expect(() => redisOf('redis+cluster://app:s3cret@10.0.0.1:7000/0')).not.toThrow(/s3cret/);
  });

  it('accepts seed nodes as { host, port }, "host:port" or a port', () => {
    const config = { cluster: [{ host: '10.0.0.1', port: 7000 }, '10.0.0.2:7001', 7002], options: { scaleReads: 'master' as const } };
    expect(redisOf(config)).toBe(config);
  });

  it.each<[string, unknown]>([
    ['redis.cluster', { cluster: [] }],
    ['redis.cluster', { cluster: '10.0.0.1:7000' }],
    ['redis.cluster', { cluster: [{ host: '10.0.0.1', port: 0 }] }],
    ['redis.cluster', { cluster: [{ host: '', port: 7000 }] }],
    ['redis.cluster', { cluster: [null] }],
    ['redis.cluster', { cluster: [''] }],
    ['redis.options', { cluster: [7000], options: 'lazy' }],
  ])('refuses a bad %s at start-up', (option, redis) => {
    expect(() => redisOf(redis as never)).toThrow(`EnableRedisHttpSession: invalid option "${option}"`);
  });

  it('still takes a standalone URL, ioredis options and a client of the user\'s as they are', () => {
    expect(redisOf('redis://127.0.0.1:6380/2')).toBe('redis://127.0.0.1:6380/2');
    const sentinel = { sentinels: [{ host: 'sentinel-0', port: 26379 }], name: 'mymaster' };
    expect(redisOf(sentinel)).toBe(sentinel);
    const client = new Cluster([7000], { lazyConnect: true });
    expect(redisOf(client)).toBe(client);
    client.disconnect();
  });
});

describe('a Cluster the module creates', () => {
  let connection: RedisConnection | undefined;

  afterEach(async () => {
    if (connection) await closeRedis(connection);
    connection = undefined;
  });

  it('gets the standalone client\'s defaults under the user\'s options, and is the module\'s to close', () => {
    connection = connectRedis({ cluster: [{ host: '127.0.0.1', port: 7000 }], options: { lazyConnect: true, redisOptions: { password: 'secret', commandTimeout: 500 } } }, 2000);
    expect(connection.owned).toBe(true);
    const client = connection.client as Cluster;
    expect(client.isCluster).toBe(true);
    expect(client.options).toMatchObject({ enableAutoPipelining: false, lazyConnect: true });
    expect(client.options.redisOptions).toMatchObject({
      password: 'secret',
      commandTimeout: 500,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    });
    const retry = client.options.clusterRetryStrategy!;
    expect([1, 2, 5, 50].map((attempt) => retry(attempt))).toEqual([100, 200, 500, 1000]);
  });

  it('with no node reachable: logs the connection error once, keeps retrying, and closes at once', async () => {
    const errors: string[] = [];
    const recording: LoggerService = { log: () => undefined, warn: () => undefined, error: (message: string) => void errors.push(message) };
    Logger.overrideLogger(recording);
    try {
      connection = connectRedis({ cluster: [{ host: '127.0.0.1', port: await freePort() }] }, 200);
      const client = connection.client as Cluster;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(['connecting', 'reconnecting']).toContain(client.status);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^Redis connection error \(node 127\.0\.0\.1:\d+\): /);
      const started = Date.now();
      await closeRedis(connection);
      connection = undefined;
      expect(Date.now() - started).toBeLessThan(500);
      let attempts = 0;
      client.on('connecting', () => attempts++);
      await new Promise((resolve) => setTimeout(resolve, 1200)); // past the next attempt it would have made
      expect(attempts).toBe(0);
    } finally {
      Logger.overrideLogger(new ConsoleLogger());
    }
  });

  describe('while every node is down', () => {
    let cluster: RedisCluster | undefined;

    afterEach(async () => {
      await cluster?.stop();
      cluster = undefined;
    });

    it('fails session operations within commandTimeoutMs (ioredis would queue them until the cluster is back), and serves again when it is', async () => {
      cluster = await startRedisCluster({ masters: 3 });
      connection = connectRedis({ cluster: cluster.nodes }, 500);
      const client = connection.client;
      client.removeAllListeners('error').on('error', () => undefined);
      client.removeAllListeners('node error').on('node error', () => undefined);
      const repository = new RedisSessionRepository(client, new RedisKeys(uniqueNamespace('cluster-down'), 16), settingsOf(), 1800, 500);
      const stored = async (name: string) => {
        const session = repository.createSession();
        session.set('name', name);
        expect(await repository.save(session)).toBe(true);
        return session.id;
      };
      const before = await stored('before');

      await Promise.all(cluster.servers.map((server) => server.stop()));
      await sleep(300); // the cluster has noticed and is reconnecting
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        await expect(repository.findById(before)).rejects.toBeInstanceOf(SessionStoreUnavailableError);
        await expect(stored('during')).rejects.toBeInstanceOf(SessionStoreUnavailableError);
        expect(Date.now() - started).toBeLessThan(2000);
      }

      await Promise.all(cluster.servers.map((server) => server.restart()));
      const deadline = Date.now() + 15_000;
      let after: string | undefined;
      while (after === undefined && Date.now() < deadline) after = await stored('after').catch(() => sleep(200).then(() => undefined));
      expect((await repository.findById(after!))?.get('name')).toBe('after');
    }, 30_000);
  });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

