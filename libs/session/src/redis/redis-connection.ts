import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_COMMAND_TIMEOUT_MS, LOGGER_CONTEXT } from '../session.constants.js';
import { ThrottledLogger } from '../throttled-logger.js';
import { withDeadline } from './command-deadline.js';
import { isRedisClusterConfig, type RedisClusterConfig } from './redis-cluster-config.js';

export interface RedisConnection {
  client: Redis | Cluster;
  /** True when the module created the client and so must close it. */
  owned: boolean;
}

/**
 * ioredis waits this long (default 2 s) for a closing socket before destroying it, on a timer that
 * keeps the process alive; a socket whose connection had already failed never reports closing,
 * so `app.close()` while Redis is down would hold a test run open for the full delay.
 */
export const DISCONNECT_TIMEOUT_MS = 100;

/** Options ioredis honours but does not declare in its types. */
export interface UndocumentedOptions {
  disconnectTimeout?: number;
}

export function isRedisClient(value: unknown): value is Redis | Cluster {
  return typeof value === 'object' && value !== null && typeof (value as Redis).defineCommand === 'function' && typeof (value as Redis).duplicate === 'function';
}

/** Whether a client is a Cluster (ioredis' own flag; a standalone or Sentinel client has none). */
export function isClusterClient(client: Redis | Cluster): client is Cluster {
  return 'isCluster' in client && client.isCluster === true;
}

/** Reconnect quickly, then settle at one attempt a second, forever. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, 1000);

/**
 * The `redis` option as a client. Clients made here pipeline automatically (concurrent requests
 * share socket writes: measured, ~20x fewer socket reads at 50 connections) and fail queued
 * commands after one reconnection attempt instead of holding them while Redis is away. They set
 * no `commandTimeout`: the repository puts its own deadline on every operation, for clients
 * passed in too. A client passed in is used as it is and never closed by the module.
 */
export function connectRedis(option: string | RedisOptions | RedisClusterConfig | Redis | Cluster, commandTimeoutMs: number): RedisConnection {
  if (isRedisClient(option)) return { client: option, owned: false };
  const client = isRedisClusterConfig(option) ? newCluster(option, commandTimeoutMs) : newRedis(option, commandTimeoutMs);
  const log = new ThrottledLogger();
  const logError = (error: Error, node?: string) => log.error(`Redis connection error${node ? ` (node ${node})` : ''}: ${error.message}`);
  client.on('error', (error: Error) => logError(error));
  // A Cluster reports each node's errors apart from its own.
  client.on('node error', logError);
  logRecovery(client);
  return { client, owned: true };
}

/**
 * Logs once when the client is ready again after it lost Redis (errors are throttled, so without
 * this line the logs would not say that service resumed); reconnection attempts in between log nothing.
 */
function logRecovery(client: Redis | Cluster): void {
  let lost = false;
  const markLost = () => {
    lost = true;
  };
  client.on('error', markLost);
  client.on('close', markLost);
  client.on('ready', () => {
    if (lost && client.status === 'ready') new Logger(LOGGER_CONTEXT).log('Redis connection restored');
    lost = false;
  });
}

/** What every connection the module opens gets, standalone or as a Cluster node. */
function connectionDefaults(commandTimeoutMs: number): RedisOptions & UndocumentedOptions {
  return {
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(commandTimeoutMs, 1000),
  };
}

function newRedis(option: string | RedisOptions, commandTimeoutMs: number): Redis {
  const defaults: RedisOptions = { ...connectionDefaults(commandTimeoutMs), enableAutoPipelining: true, retryStrategy: reconnectDelay };
  return typeof option === 'string' ? new Redis(option, defaults) : new Redis({ ...defaults, ...option });
}

/**
 * A Cluster's node connections do not reconnect (ioredis refreshes the topology instead): the cluster as a whole retries.
 * No auto-pipelining: ioredis batches a node's commands into one pipeline, and while slots move it
 * fails the batch's redirected commands with MOVED, or all of them with "All keys in the pipeline
 * should belong to the same slots allocation group", instead of following the redirection (ioredis
 * issue #2075). Measured in 2,000-slot reshards under traffic: 48 to 83 of ~2,000-2,500 requests
 * failed (503) in each of four runs with it, none without (test/redis-ops/cluster-reshard.e2e.spec.ts).
 */
function newCluster({ cluster, options = {} }: RedisClusterConfig, commandTimeoutMs: number): Cluster {
  return new Cluster(cluster, {
    enableAutoPipelining: false,
    clusterRetryStrategy: reconnectDelay,
    ...options,
    // The library reads replies in their RESP2 shapes (e.g. CONFIG GET as a flat array), whatever the protocol.
    redisOptions: { ...connectionDefaults(commandTimeoutMs), ...options.redisOptions, replyMapping: 'legacy' },
  });
}

/** QUIT (commands already sent still get their answers); a Redis that answers nothing within `timeoutMs` is disconnected. */
export async function closeRedis(connection: RedisConnection, timeoutMs = DEFAULT_COMMAND_TIMEOUT_MS): Promise<void> {
  if (!connection.owned) return;
  await withDeadline(connection.client.quit(), timeoutMs).catch(() => connection.client.disconnect());
}
