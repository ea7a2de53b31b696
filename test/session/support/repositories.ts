import { Cluster, Redis } from 'ioredis';
import {
  FlushMode, InMemorySessionRepository, JsonSessionSerializer, SaveMode, type InMemorySessionRepositoryOptions, type SessionRepository,
} from 'nestjs-redis-session';
import { RedisSessionRepository } from '../../../libs/session/src/redis/redis-session-repository.js';
import type { SessionSettings } from '../../../libs/session/src/core/http-session.js';
import { RedisKeys } from '../../../libs/session/src/redis/redis-keys.js';
import { AuditedSessionRepository } from './audited-session-repository.js';
import { startRedisCluster, type RedisCluster } from '../../harness/redis-cluster.js';
import { isCluster, sessionRedisClient, sharedRedisUrl, testRedisMode, uniqueNamespace, type SharedRedisClient } from '../../harness/redis.js';

export interface RepositoryOptions extends Partial<SessionSettings> {
  /** The repository's default maxInactiveIntervalInSeconds (default 1800). */
  interval?: number;
}

/** Two repositories over one store, as two app instances would see it (in memory: the same one). */
export interface OpenedStore {
  repo: SessionRepository;
  /** A second instance: for Redis, another connection, so that its commands race the first's. */
  peer: SessionRepository;
  /** Whether the store holds the session, read without touching it. */
  holds(id: string): Promise<boolean>;
}

/** One implementation under the contract: opens stores, and releases everything it opened. */
export interface RepositoryImplementation {
  name: string;
  /** Brings up what the stores need (called once, before `open`). */
  start?(): Promise<void>;
  open(options?: RepositoryOptions): OpenedStore;
  close(): Promise<void>;
}

export function settingsOf(options: RepositoryOptions = {}): SessionSettings {
  return {
    flushMode: options.flushMode ?? FlushMode.ON_SAVE,
    saveMode: options.saveMode ?? SaveMode.ON_SET_ATTRIBUTE,
    serializer: options.serializer ?? new JsonSessionSerializer(),
    maxAttributeBytes: options.maxAttributeBytes ?? 1024 * 1024,
    touchIntervalMs: options.touchIntervalMs ?? 0,
    maxSessionLifetimeSeconds: options.maxSessionLifetimeSeconds,
    maximumSessions: options.maximumSessions,
  };
}

/** The same options as InMemorySessionRepository's public ones (touch interval in seconds, default 0 as in settingsOf). */
export function memoryOptionsOf(options: RepositoryOptions = {}): InMemorySessionRepositoryOptions {
  return {
    maxInactiveIntervalInSeconds: options.interval ?? 1800,
    flushMode: options.flushMode,
    saveMode: options.saveMode,
    serializer: options.serializer,
    maxAttributeBytes: options.maxAttributeBytes,
    touchIntervalSeconds: options.touchIntervalMs === undefined ? undefined : options.touchIntervalMs / 1000,
    maxSessionLifetimeSeconds: options.maxSessionLifetimeSeconds,
    maximumSessions: options.maximumSessions,
  };
}

/** A client as the module makes them: commands issued in one tick share one socket write. */
export function pipeliningClient(url = sharedRedisUrl(), db = 0): Redis {
  return new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: 1, db });
}

/** The deadline-index shards the module uses on a Cluster (one on a standalone server). */
const CLUSTER_SHARDS = 16;

/** A store under a namespace of its own, with one repository on each of the two connections. */
function openOn([first, second]: SharedRedisClient[], options: RepositoryOptions): OpenedStore {
  const keys = new RedisKeys(uniqueNamespace('contract'), isCluster(first) ? CLUSTER_SHARDS : 1);
  const interval = options.interval ?? 1800;
  const repo = new RedisSessionRepository(first, keys, settingsOf(options), interval);
  const peer = new RedisSessionRepository(second, keys, settingsOf(options), interval);
  return { repo, peer, holds: async (id) => (await first.exists(keys.session(id))) === 1 };
}

async function quit(clients: SharedRedisClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
}

/** Redis repositories built directly (no sweeper, no subscriber) on this run's shared Redis: standalone, or the Cluster in cluster mode. */
export function redisImplementation(): RepositoryImplementation {
  let clients: SharedRedisClient[] | undefined;
  return {
    name: testRedisMode() === 'cluster' ? 'RedisSessionRepository on the shared Redis Cluster' : 'RedisSessionRepository',
    open: (options = {}) => openOn((clients ??= [sessionRedisClient(), sessionRedisClient()]), options),
    close: async () => clients && quit(clients),
  };
}

/** The same on a private 3-master Cluster, so that the standalone run (`npm test`) covers a Cluster too. */
export function redisClusterImplementation(): RepositoryImplementation {
  let cluster: RedisCluster | undefined;
  const clients: Cluster[] = [];
  return {
    name: 'RedisSessionRepository on a Redis Cluster',
    async start() {
      cluster = await startRedisCluster({ masters: 3 });
      for (let i = 0; i < 2; i++) {
        const client = new Cluster([cluster.nodes[i]], { enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 1 } });
        clients.push(client);
        await client.ping();
      }
    },
    open: (options = {}) => openOn(clients, options),
    async close() {
      await quit(clients);
      await cluster?.stop();
    },
  };
}

export function inMemoryImplementation(): RepositoryImplementation {
  const opened: InMemorySessionRepository[] = [];
  return {
    name: 'InMemorySessionRepository',
    open(options = {}) {
      const repo = new InMemorySessionRepository(memoryOptionsOf(options));
      opened.push(repo);
      return { repo, peer: repo, holds: async (id) => (await repo.findById(id, { touch: false })) !== undefined };
    },
    async close() {
      for (const repo of opened) repo.close();
    },
  };
}

/**
 * A user's own repository (AuditedSessionRepository, built from the public API only) decorating a
 * public InMemorySessionRepository; the peer is a second decorator over the same store.
 */
export function auditedImplementation(): RepositoryImplementation {
  const opened: InMemorySessionRepository[] = [];
  return {
    name: 'AuditedSessionRepository over an InMemorySessionRepository',
    open(options = {}) {
      const store = new InMemorySessionRepository(memoryOptionsOf(options));
      opened.push(store);
      const repo = new AuditedSessionRepository(store);
      const peer = new AuditedSessionRepository(store);
      return { repo, peer, holds: async (id) => (await repo.findById(id, { touch: false })) !== undefined };
    },
    async close() {
      for (const store of opened) store.close();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
