import type { RedisServer } from './redis-server.js';

export interface RedisSentinel {
  /** The master group name the sentinels monitor (`mymaster`). */
  readonly name: string;
  readonly sentinels: { host: string; port: number }[];
  readonly primary: RedisServer;
  /** The first replica (of `replicas`). */
  readonly replica: RedisServer;
  readonly replicas: RedisServer[];
  /** SIGKILL to the primary: no shutdown, no last replication. */
  killPrimary(): void;
  /**
   * Resolves with the new master's port once every sentinel reports one and the same former replica
   * as master, and has for `stableMs` (default 0): under load a promoted replica can be failed over in turn.
   */
  waitForFailover(timeoutMs?: number, stableMs?: number): Promise<number>;
  /** The master port each sentinel reports now. */
  masterPorts(): Promise<number[]>;
  /** Stops the sentinels and the servers, and removes the config folder. */
  stop(): Promise<void>;
}

export interface RedisSentinelOptions {
  /** How many replicas of the primary (default 1). */
  replicas?: number;
  /** `down-after-milliseconds` (default 1000). */
  downAfterMs?: number;
  /** `failover-timeout` (default 5000). */
  failoverTimeoutMs?: number;
  /** Extra `redis-server` arguments for every server. */
  args?: string[];
}

export function startRedisSentinel(options?: RedisSentinelOptions): Promise<RedisSentinel>;
