import { Cluster, Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { RedisClusterConfig } from 'nestjs-redis-session';

/**
 * Which shared Redis this run has (global-setup.js): a standalone server, or with
 * SESSION_TEST_REDIS=cluster a 3-master Redis Cluster. Suites that get their Redis from
 * `sessionRedisOption()` and `sessionRedisClient()` run unchanged on both.
 */
export type TestRedisMode = 'standalone' | 'cluster';

/** A raw client of the shared Redis: a Cluster client in cluster mode. */
export type SharedRedisClient = Redis | Cluster;

export function testRedisMode(): TestRedisMode {
  return process.env.SESSION_TEST_REDIS === 'cluster' ? 'cluster' : 'standalone';
}

/** The suite's shared standalone Redis (started by the global setup). */
export function sharedRedisUrl(): string {
  const url = process.env.SESSION_TEST_REDIS_URL;
  if (url) return url;
  if (testRedisMode() === 'cluster') {
    throw new Error('This suite uses the standalone Redis, which the cluster run does not start: get the Redis from sessionRedisOption(), or leave the suite out of `npm run test:cluster`');
  }
  throw new Error('SESSION_TEST_REDIS_URL is not set: run the tests with `npm test` (the global setup starts Redis)');
}

function sharedClusterNodes(): { host: string; port: number }[] {
  const nodes = process.env.SESSION_TEST_REDIS_CLUSTER;
  if (!nodes) throw new Error('SESSION_TEST_REDIS_CLUSTER is not set: run the cluster suites with `npm run test:cluster`');
  return nodes.split(',').map((node) => {
    const [host, port] = node.split(':');
    return { host, port: Number(port) };
  });
}

/** forRoot's `redis` option for this run's shared Redis: the standalone URL, or `{ cluster: nodes }`. */
export function sessionRedisOption(): string | RedisClusterConfig {
  return testRedisMode() === 'cluster' ? { cluster: sharedClusterNodes() } : sharedRedisUrl();
}

/** The same Redis as one URL, as an app's configuration would hold it: `redis://…` or `redis+cluster://host:port,…`. */
export function sessionRedisUrl(): string {
  return testRedisMode() === 'cluster' ? `redis+cluster://${process.env.SESSION_TEST_REDIS_CLUSTER}` : sharedRedisUrl();
}

/** A raw client of this run's shared Redis, to look at what the library stored; it pipelines as the module's clients do. */
export function sessionRedisClient(): SharedRedisClient {
  return testRedisMode() === 'cluster'
    ? new Cluster(sharedClusterNodes(), { enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 1 } })
    : new Redis(sharedRedisUrl(), { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
}

/** KEYS on every master: a Cluster client sends KEYS to one node, which knows only its own keys. */
export async function keysMatching(client: SharedRedisClient, pattern: string): Promise<string[]> {
  if (!isCluster(client)) return client.keys(pattern);
  await client.ping(); // the masters are known once the client is ready
  const masters = client.nodes('master');
  if (masters.length === 0) throw new Error('the cluster client knows no master');
  return (await Promise.all(masters.map((master) => master.keys(pattern)))).flat();
}

export function isCluster(client: SharedRedisClient): client is Cluster {
  return 'isCluster' in client && client.isCluster === true;
}

/** A namespace no other test uses, so that tests sharing the Redis never see each other's keys. */
export function uniqueNamespace(label = 'test'): string {
  return `${label}:${randomBytes(4).toString('hex')}`;
}

/** A plain client of one standalone server (default: the shared one). */
export function newClient(url = sharedRedisUrl()): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
}
