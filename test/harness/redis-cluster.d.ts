import type { RedisServer } from './redis-server.js';

export interface RedisCluster {
  readonly nodes: { host: string; port: number }[];
  readonly servers: RedisServer[];
  /** Stops every node; rejects if any of them refused a command with CROSSSLOT meanwhile. */
  stop(): Promise<void>;
}

export function startRedisCluster(options?: { masters?: number; args?: string[] }): Promise<RedisCluster>;
