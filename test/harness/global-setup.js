import { startRedisCluster } from './redis-cluster.js';
import { startRedisServer } from './redis-server.js';

/**
 * The suite's shared Redis, reaching every test worker through the environment: one standalone
 * server (SESSION_TEST_REDIS_URL), or with SESSION_TEST_REDIS=cluster a 3-master Redis Cluster
 * (SESSION_TEST_REDIS_CLUSTER, its nodes as host:port,host:port) for the suites that run on both.
 */
export default async function globalSetup() {
  const mode = process.env.SESSION_TEST_REDIS || 'standalone';
  if (mode === 'cluster') {
    const cluster = await startRedisCluster({ masters: 3, args: ['--notify-keyspace-events', 'Egx'] });
    globalThis.__SESSION_TEST_REDIS__ = cluster;
    process.env.SESSION_TEST_REDIS_CLUSTER = cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(',');
    return;
  }
  if (mode !== 'standalone') throw new Error(`SESSION_TEST_REDIS must be "standalone" (the default) or "cluster", not "${mode}"`);
  const server = await startRedisServer({ args: ['--notify-keyspace-events', 'Egx'] });
  globalThis.__SESSION_TEST_REDIS__ = server;
  process.env.SESSION_TEST_REDIS_URL = server.url;
}
