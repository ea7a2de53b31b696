import type { ClusterNode, ClusterOptions } from 'ioredis';

/**
 * `redis: { cluster: [...] }`: a Redis Cluster the module connects to (with the same defaults as
 * its standalone client) and closes on shutdown, as it does a URL.
 */
export interface RedisClusterConfig {
  /** Seed nodes, e.g. `[{ host: '10.0.0.1', port: 6379 }]`: one is enough, the other masters are discovered. */
  cluster: ClusterNode[];
  /** ioredis Cluster options, merged over the module's defaults; per-node ones (password, tls) go in `redisOptions`. */
  options?: ClusterOptions;
}

/** An object carrying its own `cluster` field (an ioredis client only has the CLUSTER command on its prototype). */
export function isRedisClusterConfig(value: unknown): value is RedisClusterConfig {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, 'cluster');
}

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^@/?#]*)\/?$/;
const NODE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

export function isRedisClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:\/\//.test(url);
}

/**
 * Reads `redis+cluster://[[user]:password@]host:port,host:port` (`rediss+cluster://` for TLS), so
 * that a Cluster can be configured from one environment variable, as a standalone server is.
 * Throws an Error saying what is wrong with a malformed one.
 */
export function parseRedisClusterUrl(url: string): RedisClusterConfig {
  const match = CLUSTER_URL.exec(url);
  if (!match) throw new Error('expected redis+cluster://[[user]:password@]host:port,host:port (no database: a Cluster has only 0)');
  const [, scheme, username, password, hosts] = match;
  const cluster = hosts.split(',').map((node) => {
    const parts = NODE.exec(node);
    const port = Number(parts?.[2] ?? 6379);
    if (!parts || port < 1 || port > 65535) throw new Error(`"${node}" is not a host:port seed node`);
    return { host: parts[1].replace(/^\[(.*)\]$/, '$1'), port };
  });
  const redisOptions: NonNullable<ClusterOptions['redisOptions']> = {};
  if (username) redisOptions.username = decodeURIComponent(username);
  if (password) redisOptions.password = decodeURIComponent(password);
  if (scheme === 'rediss') redisOptions.tls = {};
  return { cluster, options: { redisOptions } };
}
