import type { Type } from '@nestjs/common';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { SessionOptionsError } from './core/errors.js';
import { rejectUnknownOptions } from './core/unknown-options.js';
import type { FlushMode } from './core/flush-mode.js';
import type { MaximumSessions, WaitForReplicas } from './core/http-session.js';
import { SessionRepository } from './core/session-repository.js';
import type { SaveMode } from './core/save-mode.js';
import type { SessionSerializer } from './core/session-serializer.js';
import { resolveSessionSettings } from './core/session-settings-options.js';
import { isRedisClusterConfig, isRedisClusterUrl, parseRedisClusterUrl, type RedisClusterConfig } from './redis/redis-cluster-config.js';
import { isClusterClient, isRedisClient } from './redis/redis-connection.js';
import { CookieSessionIdResolver } from './http/cookie-session-id-resolver.js';
import { HeaderSessionIdResolver } from './http/header-session-id-resolver.js';
import { isCookieName, resolveCookieOptions, type ResolvedCookieOptions, type SessionCookieOptions } from './http/session-cookie-options.js';
import type { SessionIdResolver } from './http/session-id-resolver.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './session.constants.js';
import type { ResolvedMigrationOptions } from './http/express-session-migration.js';
import { SessionRepositoryFilter } from './session-repository-filter.interceptor.js';

export type { RedisClusterConfig } from './redis/redis-cluster-config.js';
export type { SameSite, SessionCookieOptions } from './http/session-cookie-options.js';

export interface SessionWebSocketOptions {
  /** Origins allowed to open a socket. Default: only the origin of the request's own Host. `'*'`: any. */
  allowedOrigins?: string[] | '*';
  /** Refuse handshakes without a live session (default true). */
  requireSession?: boolean;
  /**
   * An app with gateways but without `app.useWebSocketAdapter(new SessionIoAdapter(app))` has sockets
   * that no session governs: logged as an error at start-up (default), or, with true, a failed start-up.
   */
  requireAdapter?: boolean;
  /** At most one Redis write per session per this many seconds of socket traffic (default 5). */
  touchIntervalSeconds?: number;
}

export interface SessionModuleOptions {
  /** Idle seconds before a session expires (default 1800). Negative: never; 0: at once. */
  maxInactiveIntervalInSeconds?: number;
  /**
   * Absolute lifetime: every session ends this many seconds after its creation, however active it
   * is (OWASP's absolute timeout; a login's `changeId()` keeps the creation time). Default: none, as Spring.
   */
  maxSessionLifetimeSeconds?: number;
  /**
   * At most `max` sessions per user (principal), checked at login (when a session gets its
   * principal). `'expire-oldest'` ends the least recently used ones beyond `max` (their sockets
   * closed); `'reject'` fails the login with SessionLimitExceededError (HTTP 409). Default: no limit.
   */
  maximumSessions?: MaximumSessions;
  /**
   * Loading a session refreshes its idle timer at most once per this many seconds (default 1;
   * capped at a third of the session's interval; 0: on every load). Reads between touches cost
   * Redis a single HGETALL; lastAccessedTime lags real use by less than this.
   */
  touchIntervalSeconds?: number;
  /** Prefix of every Redis key and channel the library uses (default `spring:session`). */
  redisNamespace?: string;
  /** Default FlushMode.ON_SAVE; the enum's string (`'IMMEDIATE'`) is accepted as well, as from a config file. */
  flushMode?: FlushMode | `${FlushMode}`;
  /** Default SaveMode.ON_SET_ATTRIBUTE; the enum's string (`'ALWAYS'`) is accepted as well. */
  saveMode?: SaveMode | `${SaveMode}`;
  /**
   * `'redis'` (default), `'memory'` (a single-process store with the same contract, for development
   * and tests), or a SessionRepository of your own (its `events`, if it has them, reach SessionEvents).
   */
  store?: 'redis' | 'memory' | SessionRepository;
  /**
   * A URL (`redis://`, `rediss://`, or `redis+cluster://host:port,host:port`), ioredis options
   * (Sentinel included), `{ cluster: nodes, options? }` for a Redis Cluster, or a client you own
   * (it is not closed on shutdown). Default `redis://127.0.0.1:6379`.
   */
  redis?: string | RedisOptions | RedisClusterConfig | Redis | Cluster;
  /**
   * How the id travels: in the `SESSION` cookie (default), the `X-Auth-Token` header, or any
   * SessionIdResolver (e.g. `new CompositeSessionIdResolver(new CookieSessionIdResolver(), new HeaderSessionIdResolver())`).
   */
  idResolver?: 'cookie' | 'header' | SessionIdResolver;
  cookie?: SessionCookieOptions;
  /** Header name for the header resolver (default `X-Auth-Token`). */
  headerName?: string;
  serializer?: SessionSerializer;
  /** Largest serialized attribute value `set()` accepts, in bytes (default 1 MiB). */
  maxAttributeBytes?: number;
  /** Milliseconds a session operation may wait for Redis before it fails (a request: with 503); default 2000. */
  commandTimeoutMs?: number;
  /**
   * Every write acknowledged to the user (a save, an id change, a deletion) is followed by
   * `WAIT replicas timeoutMs`, and fails (HTTP 503) when fewer replicas confirmed it in time, so
   * that a failover does not lose it. Standalone Redis (Sentinel included) only; `timeoutMs` must be
   * below `commandTimeoutMs`. Default: none (Redis' asynchronous replication).
   */
  waitForReplicas?: WaitForReplicas;
  /**
   * Fail start-up (`app.init()` rejects within about `commandTimeoutMs`) when Redis does not answer.
   * Default false: the app starts, requests needing a session get 503s until Redis is back.
   */
  requireRedisAtStartup?: boolean;
  /** How often each instance looks for sessions past their deadline, in ms (default 200). */
  sweepIntervalMs?: number;
  /** Run `CONFIG SET notify-keyspace-events` so that external deletions are seen (default true). */
  configureKeyspaceNotifications?: boolean;
  websocket?: SessionWebSocketOptions;
  /**
   * The session filter forRoot registers as a global interceptor: SessionRepositoryFilter (default)
   * or a subclass of it that overrides its protected hooks.
   */
  sessionFilter?: Type<SessionRepositoryFilter>;
  /**
   * `req.session` and `req.sessionID` with express-session's API (Fastify: `request.session`, as
   * @fastify/session), over the same sessions, so that Passport, csrf-sync, connect-flash and Nest's
   * own `@Session()` from `@nestjs/common` run on them. Default false: nothing is put on the request.
   */
  expressSessionApi?: boolean;
  /**
   * Live migration from express-session + connect-redis (same Redis): a request with a valid signed
   * old cookie and no session of ours has its old session imported once, its attributes kept, so
   * that nobody is signed out on the day of the switch. `secrets`: express-session's (the first
   * that verifies wins); `cookieName` default `connect.sid`; `prefix` connect-redis' (default `sess:`).
   */
  migrateFromExpressSession?: MigrateFromExpressSessionOptions;
}

export interface MigrateFromExpressSessionOptions {
  cookieName?: string;
  secrets: string[];
  prefix?: string;
}

/** Options with every default filled in and checked. */
export interface ResolvedSessionOptions {
  maxInactiveIntervalInSeconds: number;
  maxSessionLifetimeSeconds: number | undefined;
  maximumSessions: MaximumSessions | undefined;
  touchIntervalMs: number;
  redisNamespace: string;
  flushMode: FlushMode;
  saveMode: SaveMode;
  store: 'redis' | 'memory' | SessionRepository;
  /** A `redis+cluster://` URL arrives here as its RedisClusterConfig. */
  redis: string | RedisOptions | RedisClusterConfig | Redis | Cluster;
  idResolver: SessionIdResolver;
  cookie: ResolvedCookieOptions;
  headerName: string;
  serializer: SessionSerializer;
  maxAttributeBytes: number;
  commandTimeoutMs: number;
  waitForReplicas: WaitForReplicas | undefined;
  requireRedisAtStartup: boolean;
  sweepIntervalMs: number;
  configureKeyspaceNotifications: boolean;
  sessionFilter: Type<SessionRepositoryFilter>;
  expressSessionApi: boolean;
  migrateFromExpressSession: ResolvedMigrationOptions | undefined;
  websocket: { allowedOrigins: string[] | '*' | undefined; requireSession: boolean; requireAdapter: boolean; touchIntervalSeconds: number };
}

/** Every option name, so that a misspelt one is refused (the compiler keeps these lists complete). */
const OPTION_NAMES: Record<keyof SessionModuleOptions, true> = {
  maxInactiveIntervalInSeconds: true, maxSessionLifetimeSeconds: true, maximumSessions: true, touchIntervalSeconds: true, redisNamespace: true, flushMode: true, saveMode: true, store: true,
  redis: true, idResolver: true, cookie: true, headerName: true, serializer: true, maxAttributeBytes: true, commandTimeoutMs: true, waitForReplicas: true,
  requireRedisAtStartup: true, sweepIntervalMs: true, configureKeyspaceNotifications: true, websocket: true, sessionFilter: true,
  expressSessionApi: true, migrateFromExpressSession: true,
};
/** ConfigurableModuleBuilder's extra: forRoot takes it out before the options reach us, but a factory may return it too. */
const MODULE_EXTRAS = { isGlobal: true } as const;
const WEBSOCKET_OPTION_NAMES: Record<keyof SessionWebSocketOptions, true> = {
  allowedOrigins: true, requireSession: true, requireAdapter: true, touchIntervalSeconds: true,
};

/** Fills in defaults and fails fast, naming the option, on anything invalid. */
export function resolveSessionOptions(options: SessionModuleOptions = {}): ResolvedSessionOptions {
  const fail = (option: string, reason: string): never => {
    throw new SessionOptionsError(option, reason);
  };
  const integer = (option: string, value: unknown, min: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      fail(option, `expected an integer >= ${min}, got ${JSON.stringify(value)}`);
    }
    return value as number;
  };
  const oneOf = <V>(option: string, value: V, allowed: readonly V[]): V => {
    if (!allowed.includes(value)) fail(option, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    return value;
  };

  if (typeof options !== 'object' || options === null) fail('options', `expected an object of SessionModuleOptions, got ${JSON.stringify(options)}`);
  rejectUnknownOptions(options, { ...OPTION_NAMES, ...MODULE_EXTRAS });
  const { settings, maxInactiveIntervalInSeconds } = resolveSessionSettings(options, 1);
  const namespace = options.redisNamespace ?? 'spring:session';
  if (typeof namespace !== 'string' || namespace.length === 0 || /[\s{}]/.test(namespace)) {
    fail('redisNamespace', 'expected a non-empty string without spaces or braces');
  }
  const cookie = resolveCookieOptions(options.cookie);
  const headerName = options.headerName ?? 'X-Auth-Token';
  const headerResolver = new HeaderSessionIdResolver(headerName); // checks the name: the handshake reads that header in every mode
  const idResolver = resolveIdResolver(options.idResolver ?? 'cookie', cookie, headerResolver, fail);
  const websocket = options.websocket ?? {};
  if (typeof websocket !== 'object' || websocket === null) fail('websocket', 'expected an object of websocket options');
  rejectUnknownOptions(websocket, WEBSOCKET_OPTION_NAMES, 'websocket.');
  const allowedOrigins = websocket.allowedOrigins;
  if (allowedOrigins !== undefined && allowedOrigins !== '*' && !(Array.isArray(allowedOrigins) && allowedOrigins.every((o) => typeof o === 'string'))) {
    fail('websocket.allowedOrigins', 'expected an array of origins such as "https://chat.example.com", or "*"');
  }
  const socketTouchIntervalSeconds = websocket.touchIntervalSeconds ?? 5;
  if (typeof socketTouchIntervalSeconds !== 'number' || !(socketTouchIntervalSeconds > 0)) {
    fail('websocket.touchIntervalSeconds', `expected a positive number, got ${JSON.stringify(socketTouchIntervalSeconds)}`);
  }
  const redis = resolveRedisOption(options.redis ?? 'redis://127.0.0.1:6379', fail);
  const commandTimeoutMs = integer('commandTimeoutMs', options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, 1);

  return {
    maxInactiveIntervalInSeconds,
    maxSessionLifetimeSeconds: settings.maxSessionLifetimeSeconds,
    maximumSessions: settings.maximumSessions,
    touchIntervalMs: settings.touchIntervalMs!,
    redisNamespace: namespace,
    flushMode: settings.flushMode,
    saveMode: settings.saveMode,
    store: options.store instanceof SessionRepository ? options.store : oneOf('store', options.store ?? 'redis', ['redis', 'memory'] as const),
    redis,
    idResolver,
    cookie,
    headerName,
    serializer: settings.serializer,
    maxAttributeBytes: settings.maxAttributeBytes,
    commandTimeoutMs,
    waitForReplicas: resolveWaitForReplicas(options.waitForReplicas, options.store, redis, commandTimeoutMs, integer, fail),
    requireRedisAtStartup: oneOf('requireRedisAtStartup', options.requireRedisAtStartup ?? false, [true, false]),
    sweepIntervalMs: integer('sweepIntervalMs', options.sweepIntervalMs ?? 200, 10),
    sessionFilter: resolveSessionFilter(options.sessionFilter, fail),
    expressSessionApi: oneOf('expressSessionApi', options.expressSessionApi ?? false, [true, false]),
    migrateFromExpressSession: resolveMigration(options.migrateFromExpressSession, options.store, fail),
    configureKeyspaceNotifications: oneOf('configureKeyspaceNotifications', options.configureKeyspaceNotifications ?? true, [true, false]),
    websocket: {
      allowedOrigins,
      requireSession: oneOf('websocket.requireSession', websocket.requireSession ?? true, [true, false]),
      requireAdapter: oneOf('websocket.requireAdapter', websocket.requireAdapter ?? false, [true, false]),
      touchIntervalSeconds: socketTouchIntervalSeconds,
    },
  };
}

const WAIT_OPTION_NAMES: Record<keyof WaitForReplicas, true> = { replicas: true, timeoutMs: true };

function resolveWaitForReplicas(
  wait: unknown,
  store: unknown,
  redis: ResolvedSessionOptions['redis'],
  commandTimeoutMs: number,
  integer: (option: string, value: unknown, min: number) => number,
  fail: (option: string, reason: string) => never,
): WaitForReplicas | undefined {
  if (wait === undefined) return undefined;
  if (typeof wait !== 'object' || wait === null) return fail('waitForReplicas', `expected { replicas: number, timeoutMs: number }, got ${JSON.stringify(wait)}`);
  rejectUnknownOptions(wait, WAIT_OPTION_NAMES, 'waitForReplicas.');
  if (store !== undefined && store !== 'redis') fail('waitForReplicas', `waits for Redis replicas: it applies to the Redis store only, not to ${store === 'memory' ? 'store: "memory"' : 'a store of your own'}`);
  // On a Cluster, WAIT would have to reach the connection that wrote to the slot's master, and a
  // slot that moves in between makes it count a connection that never wrote: a silent "saved".
  const isCluster = isRedisClusterConfig(redis) || (isRedisClient(redis) && isClusterClient(redis));
  if (isCluster) fail('waitForReplicas', 'is supported on a standalone Redis (Sentinel included), not on a Redis Cluster');
  const { replicas, timeoutMs } = wait as WaitForReplicas;
  integer('waitForReplicas.replicas', replicas, 1);
  integer('waitForReplicas.timeoutMs', timeoutMs, 1);
  // WAIT holds its connection until it answers: the operation's deadline must leave it room to.
  if (timeoutMs >= commandTimeoutMs) fail('waitForReplicas.timeoutMs', `expected less than commandTimeoutMs (${commandTimeoutMs}), got ${timeoutMs}`);
  return { replicas, timeoutMs };
}

const MIGRATION_OPTION_NAMES: Record<keyof MigrateFromExpressSessionOptions, true> = { cookieName: true, secrets: true, prefix: true };

function resolveMigration(migration: unknown, store: unknown, fail: (option: string, reason: string) => never): ResolvedMigrationOptions | undefined {
  if (migration === undefined) return undefined;
  if (typeof migration !== 'object' || migration === null) return fail('migrateFromExpressSession', 'expected { secrets: string[], cookieName?, prefix? }');
  rejectUnknownOptions(migration, MIGRATION_OPTION_NAMES, 'migrateFromExpressSession.');
  const { cookieName = 'connect.sid', secrets, prefix = 'sess:' } = migration as MigrateFromExpressSessionOptions;
  if (store !== undefined && store !== 'redis') fail('migrateFromExpressSession', 'reads the old sessions from Redis: it needs the Redis store');
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((secret) => typeof secret === 'string' && secret.length > 0)) {
    fail('migrateFromExpressSession.secrets', "expected express-session's secrets, a non-empty array of non-empty strings");
  }
  if (!isCookieName(cookieName)) fail('migrateFromExpressSession.cookieName', `"${cookieName}" is not a valid cookie name`);
  // Braces would move the old key's Cluster slot away from the claim's marker, which is tagged with it.
  if (typeof prefix !== 'string' || /[{}\s]/.test(prefix)) fail('migrateFromExpressSession.prefix', 'expected a key prefix without braces or spaces');
  return { cookieName, secrets: [...secrets], prefix };
}

function resolveSessionFilter(filter: unknown, fail: (option: string, reason: string) => never): Type<SessionRepositoryFilter> {
  if (filter === undefined) return SessionRepositoryFilter;
  if (typeof filter === 'function' && (filter === SessionRepositoryFilter || filter.prototype instanceof SessionRepositoryFilter)) {
    return filter as Type<SessionRepositoryFilter>;
  }
  return fail('sessionFilter', 'expected SessionRepositoryFilter or a class that extends it');
}

/** The resolver the `idResolver` option names, or the one it gives. */
function resolveIdResolver(
  idResolver: unknown,
  cookie: ResolvedCookieOptions,
  headerResolver: HeaderSessionIdResolver,
  fail: (option: string, reason: string) => never,
): SessionIdResolver {
  if (idResolver === 'cookie') return new CookieSessionIdResolver(cookie);
  if (idResolver === 'header') return headerResolver;
  const given = idResolver as Partial<SessionIdResolver> | null;
  if (typeof given === 'object' && given !== null && ['resolveSessionIds', 'setSessionId', 'expireSession'].every((name) => typeof given[name as keyof SessionIdResolver] === 'function')) {
    return given as SessionIdResolver;
  }
  return fail('idResolver', `expected 'cookie', 'header' or a SessionIdResolver (resolveSessionIds, setSessionId, expireSession), got ${JSON.stringify(idResolver)}`);
}

/** Checks the `redis` option; a `redis+cluster://` URL becomes the cluster configuration it describes. */
function resolveRedisOption(redis: unknown, fail: (option: string, reason: string) => never): ResolvedSessionOptions['redis'] {
  if (typeof redis === 'string') {
    if (isRedisClusterUrl(redis)) {
      try {
        return parseRedisClusterUrl(redis);
      } catch (error) {
        // Credentials stay out of the error, which ends up in logs.
        return fail('redis', `${(error as Error).message}, got "${redis.replace(/\/\/[^@/]*@/, '//***@')}"`);
      }
    }
    if (!/^rediss?:\/\//.test(redis)) fail('redis', `expected a redis://, rediss:// or redis+cluster:// URL, got "${redis}"`);
    return redis;
  }
  if (typeof redis !== 'object' || redis === null) return fail('redis', 'expected a URL, ioredis options, { cluster: nodes } or an ioredis client');
  if (isRedisClient(redis)) return redis;
  if (isRedisClusterConfig(redis)) {
    const { cluster, options } = redis;
    if (!Array.isArray(cluster) || cluster.length === 0 || !cluster.every(isSeedNode)) {
      fail('redis.cluster', 'expected a non-empty array of seed nodes such as { host: "10.0.0.1", port: 6379 } (or "host:port")');
    }
    if (options !== undefined && (typeof options !== 'object' || options === null)) fail('redis.options', 'expected ioredis Cluster options (an object)');
    return redis;
  }
  const { port } = redis as RedisOptions;
  if (typeof port === 'number' && (port < 1 || port > 65535)) fail('redis.port', `expected a port between 1 and 65535, got ${port}`);
  return redis as RedisOptions;
}

function isSeedNode(node: unknown): boolean {
  const isPort = (port: unknown) => typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
  if (typeof node === 'string') return node.length > 0;
  if (typeof node === 'number') return isPort(node);
  if (typeof node !== 'object' || node === null) return false;
  const { host, port } = node as { host?: unknown; port?: unknown };
  return (host === undefined || (typeof host === 'string' && host.length > 0)) && (port === undefined || isPort(port));
}
