import type { LogLevel } from '@nestjs/common';
import type { MaximumSessions } from 'nestjs-redis-session';

/** What a chat instance needs to know; `createChatApp` fills in the defaults. */
export interface ChatConfig {
  /** Redis shared by every instance; absent: the embedded in-memory store (one process only). */
  redisUrl?: string;
  /** Idle seconds before a session ends (default 1800). */
  sessionTimeoutSeconds?: number;
  /** At most this many sessions per user, checked at sign-in (default: no limit); the library's `maximumSessions`. */
  maximumSessions?: MaximumSessions;
  /** Prefix of every Redis key and channel this app uses (default `chat`), so apps can share a Redis. */
  namespace?: string;
  /** Express `trust proxy` (behind a TLS-terminating load balancer: the session cookie is then Secure). */
  trustProxy?: boolean | number | string;
  /** Nest log levels (default: Nest's own). */
  logLevels?: LogLevel[];
}

export interface ResolvedChatConfig {
  redisUrl: string | undefined;
  sessionTimeoutSeconds: number;
  maximumSessions: MaximumSessions | undefined;
  namespace: string;
  trustProxy: boolean | number | string | undefined;
  logLevels: LogLevel[] | undefined;
}

export const DEFAULT_SESSION_TIMEOUT_SECONDS = 1800;
export const DEFAULT_PORT = 3000;

export function resolveChatConfig(config: ChatConfig = {}): ResolvedChatConfig {
  return {
    redisUrl: config.redisUrl || undefined,
    sessionTimeoutSeconds: config.sessionTimeoutSeconds ?? DEFAULT_SESSION_TIMEOUT_SECONDS,
    maximumSessions: config.maximumSessions,
    namespace: config.namespace ?? 'chat',
    trustProxy: config.trustProxy,
    logLevels: config.logLevels,
  };
}

/**
 * The process's settings: PORT, REDIS_URL, SESSION_TIMEOUT_SECONDS (and MAX_SESSIONS_PER_USER, CHAT_NAMESPACE, TRUST_PROXY).
 * Throws, naming the variable, on a bad value.
 */
export function chatSettingsFromEnv(env: NodeJS.ProcessEnv): { port: number; config: ChatConfig } {
  const maxSessions = optionalIntegerFromEnv(env, 'MAX_SESSIONS_PER_USER', 1, Number.MAX_SAFE_INTEGER);
  return {
    port: integerFromEnv(env, 'PORT', DEFAULT_PORT, 0, 65535),
    config: {
      redisUrl: env.REDIS_URL?.trim() || undefined,
      sessionTimeoutSeconds: integerFromEnv(env, 'SESSION_TIMEOUT_SECONDS', DEFAULT_SESSION_TIMEOUT_SECONDS, 1, Number.MAX_SAFE_INTEGER),
      // A sign-in beyond the limit ends that user's least recently used session (its page is told).
      maximumSessions: maxSessions === undefined ? undefined : { max: maxSessions, whenExceeded: 'expire-oldest' },
      namespace: env.CHAT_NAMESPACE?.trim() || undefined,
      trustProxy: trustProxyFromEnv(env.TRUST_PROXY),
    },
  };
}

function integerFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  return optionalIntegerFromEnv(env, name, min, max) ?? fallback;
}

/** undefined when the variable is unset or blank. */
function optionalIntegerFromEnv(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

/** As Express reads it: `true`/`false`, a number of hops, or addresses/subnets. */
function trustProxyFromEnv(raw: string | undefined): boolean | number | string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}
