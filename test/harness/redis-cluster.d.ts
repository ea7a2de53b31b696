import type { RedisServer } from './redis-server.js';

export interface RedisCluster {
  readonly nodes: { host: string; port: number }[];
  readonly servers: RedisServer[];
  stop(): Promise<void>;
}

export function startRedisCluster(options?: { masters?: number; args?: string[] }): Promise<RedisCluster>;
