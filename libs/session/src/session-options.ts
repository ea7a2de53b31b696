import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { SessionOptionsError } from './core/errors.js';
import { FlushMode } from './core/flush-mode.js';
import { SaveMode } from './core/save-mode.js';
import { JsonSessionSerializer, type SessionSerializer } from './core/session-serializer.js';
import { isRedisClusterConfig, isRedisClusterUrl, parseRedisClusterUrl, type RedisClusterConfig } from './redis/redis-cluster-config.js';
import { isRedisClient } from './redis/redis-connection.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './session.constants.js';

export type { RedisClusterConfig } from './redis/redis-cluster-config.js';

export type SameSite = 'Strict' | 'Lax' | 'None';

export interface SessionCookieOptions {
  /** Default `SESSION`, as Spring. */
  name?: string;
  /** Default `/`. */
  path?: string;
  domain?: string;
  /** Default `Lax`. */
  sameSite?: SameSite;
  /** Default true. */
  httpOnly?: boolean;
  /** `'auto'` (default): Secure when the request is https (the platform's trust-proxy setting is honoured). */
  secure?: boolean | 'auto';
  /** A persistent cookie ("remember me"); default none: a browser-session cookie, as Spring. */
  maxAgeSeconds?: number;
  /** Write the id base64-encoded, as Spring's DefaultCookieSerializer (default true). */
  base64?: boolean;
}

export interface SessionWebSocketOptions {
  /** Origins allowed to open a socket. Default: only the origin of the request's own Host. `'*'`: any. */
  allowedOrigins?: string[] | '*';
  /** Refuse handshakes without a live session (default true). */
  requireSession?: boolean;
  /** At most one Redis write per session per this many seconds of socket traffic (default 5). */
  touchIntervalSeconds?: number;
}

export interface SessionModuleOptions {
  /** Idle seconds before a session expires (default 1800). Negative: never; 0: at once. */
  maxInactiveIntervalInSeconds?: number;
  /**
   * Loading a session refreshes its idle timer at most once per this many seconds (default 1;
   * capped at a third of the session's interval; 0: on every load). Reads between touches cost
   * Redis a single HGETALL; lastAccessedTime lags real use by less than this.
   */
  touchIntervalSeconds?: number;
  /** Prefix of every Redis key and channel the library uses (default `spring:session`). */
  redisNamespace?: string;
  flushMode?: FlushMode;
  saveMode?: SaveMode;
  /** `'redis'` (default) or `'memory'`: a single-process store with the same contract, for development and tests. */
  store?: 'redis' | 'memory';
  /**
   * A URL (`redis://`, `rediss://`, or `redis+cluster://host:port,host:port`), ioredis options
   * (Sentinel included), `{ cluster: nodes, options? }` for a Redis Cluster, or a client you own
   * (it is not closed on shutdown). Default `redis://127.0.0.1:6379`.
   */
  redis?: string | RedisOptions | RedisClusterConfig | Redis | Cluster;
  /** How the id travels: in the `SESSION` cookie (default) or the `X-Auth-Token` header. */
  idResolver?: 'cookie' | 'header';
  cookie?: SessionCookieOptions;
  /** Header name for the header resolver (default `X-Auth-Token`). */
  headerName?: string;
  serializer?: SessionSerializer;
  /** Largest serialized attribute value `set()` accepts, in bytes (default 1 MiB). */
  maxAttributeBytes?: number;
  /** Milliseconds a session operation may wait for Redis before it fails (a request: with 503); default 2000. */
  commandTimeoutMs?: number;
  /** How often each instance looks for sessions past their deadline, in ms (default 200). */
  sweepIntervalMs?: number;
  /** Run `CONFIG SET notify-keyspace-events` so that external deletions are seen (default true). */
  configureKeyspaceNotifications?: boolean;
  websocket?: SessionWebSocketOptions;
}

/** Options with every default filled in and checked. */
export interface ResolvedSessionOptions {
  maxInactiveIntervalInSeconds: number;
  touchIntervalMs: number;
  redisNamespace: string;
  flushMode: FlushMode;
  saveMode: SaveMode;
  store: 'redis' | 'memory';
  /** A `redis+cluster://` URL arrives here as its RedisClusterConfig. */
  redis: string | RedisOptions | RedisClusterConfig | Redis | Cluster;
  idResolver: 'cookie' | 'header';
  cookie: Required<Omit<SessionCookieOptions, 'domain' | 'maxAgeSeconds'>> & Pick<SessionCookieOptions, 'domain' | 'maxAgeSeconds'>;
  headerName: string;
  serializer: SessionSerializer;
  maxAttributeBytes: number;
  commandTimeoutMs: number;
  sweepIntervalMs: number;
  configureKeyspaceNotifications: boolean;
  websocket: { allowedOrigins: string[] | '*' | undefined; requireSession: boolean; touchIntervalSeconds: number };
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

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

  const interval = options.maxInactiveIntervalInSeconds ?? 1800;
  if (typeof interval !== 'number' || !Number.isInteger(interval)) {
    fail('maxInactiveIntervalInSeconds', `expected an integer (negative: never expires), got ${JSON.stringify(interval)}`);
  }
  const namespace = options.redisNamespace ?? 'spring:session';
  if (typeof namespace !== 'string' || namespace.length === 0 || /[\s{}]/.test(namespace)) {
    fail('redisNamespace', 'expected a non-empty string without spaces or braces');
  }
  const cookie = options.cookie ?? {};
  const cookieName = cookie.name ?? 'SESSION';
  if (!COOKIE_NAME.test(cookieName)) fail('cookie.name', `"${cookieName}" is not a valid cookie name`);
  const path = cookie.path ?? '/';
  if (!path.startsWith('/') || /[;\s]/.test(path)) fail('cookie.path', 'expected a path starting with / without ; or spaces');
  if (cookie.domain !== undefined && !/^[A-Za-z0-9.-]+$/.test(cookie.domain)) fail('cookie.domain', `"${cookie.domain}" is not a domain`);
  if (cookie.maxAgeSeconds !== undefined) integer('cookie.maxAgeSeconds', cookie.maxAgeSeconds, 0);
  const sameSite = oneOf('cookie.sameSite', cookie.sameSite ?? 'Lax', ['Strict', 'Lax', 'None'] as const);
  const secure = oneOf('cookie.secure', cookie.secure ?? 'auto', [true, false, 'auto'] as const);
  if (sameSite === 'None' && secure === false) fail('cookie.sameSite', 'SameSite=None requires a Secure cookie (secure: true or "auto")');
  const headerName = options.headerName ?? 'X-Auth-Token';
  if (!HEADER_NAME.test(headerName)) fail('headerName', `"${headerName}" is not a valid header name`);
  const serializer = options.serializer ?? new JsonSessionSerializer();
  if (typeof serializer?.serialize !== 'function' || typeof serializer?.deserialize !== 'function') {
    fail('serializer', 'expected an object with serialize() and deserialize()');
  }
  const websocket = options.websocket ?? {};
  const allowedOrigins = websocket.allowedOrigins;
  if (allowedOrigins !== undefined && allowedOrigins !== '*' && !(Array.isArray(allowedOrigins) && allowedOrigins.every((o) => typeof o === 'string'))) {
    fail('websocket.allowedOrigins', 'expected an array of origins such as "https://chat.example.com", or "*"');
  }
  const socketTouchIntervalSeconds = websocket.touchIntervalSeconds ?? 5;
  if (typeof socketTouchIntervalSeconds !== 'number' || !(socketTouchIntervalSeconds > 0)) {
    fail('websocket.touchIntervalSeconds', `expected a positive number, got ${JSON.stringify(socketTouchIntervalSeconds)}`);
  }
  const redis = resolveRedisOption(options.redis ?? 'redis://127.0.0.1:6379', fail);

  const touchIntervalSeconds = options.touchIntervalSeconds ?? 1;
  if (typeof touchIntervalSeconds !== 'number' || !(touchIntervalSeconds >= 0) || !Number.isFinite(touchIntervalSeconds)) {
    fail('touchIntervalSeconds', `expected a number of seconds >= 0, got ${JSON.stringify(touchIntervalSeconds)}`);
  }

  return {
    maxInactiveIntervalInSeconds: interval,
    touchIntervalMs: touchIntervalSeconds * 1000,
    redisNamespace: namespace,
    flushMode: oneOf('flushMode', options.flushMode ?? FlushMode.ON_SAVE, Object.values(FlushMode)),
    saveMode: oneOf('saveMode', options.saveMode ?? SaveMode.ON_SET_ATTRIBUTE, Object.values(SaveMode)),
    store: oneOf('store', options.store ?? 'redis', ['redis', 'memory'] as const),
    redis,
    idResolver: oneOf('idResolver', options.idResolver ?? 'cookie', ['cookie', 'header'] as const),
    cookie: {
      name: cookieName,
      path,
      domain: cookie.domain,
      sameSite,
      httpOnly: oneOf('cookie.httpOnly', cookie.httpOnly ?? true, [true, false]),
      secure,
      maxAgeSeconds: cookie.maxAgeSeconds,
      base64: oneOf('cookie.base64', cookie.base64 ?? true, [true, false]),
    },
    headerName,
    serializer,
    maxAttributeBytes: integer('maxAttributeBytes', options.maxAttributeBytes ?? 1024 * 1024, 1),
    commandTimeoutMs: integer('commandTimeoutMs', options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, 1),
    sweepIntervalMs: integer('sweepIntervalMs', options.sweepIntervalMs ?? 200, 10),
    configureKeyspaceNotifications: oneOf('configureKeyspaceNotifications', options.configureKeyspaceNotifications ?? true, [true, false]),
    websocket: { allowedOrigins, requireSession: oneOf('websocket.requireSession', websocket.requireSession ?? true, [true, false]), touchIntervalSeconds: socketTouchIntervalSeconds },
  };
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
