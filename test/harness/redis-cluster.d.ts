import type { RedisServer } from './redis-server.js';

export interface RedisCluster {
  /** Every node, masters and replicas. */
  readonly nodes: { host: string; port: number }[];
  readonly servers: RedisServer[];
  /** CLUSTER KEYSLOT, asked of a node still running. */
  slotOf(key: string): Promise<number>;
  /** The port of the master serving the slot now (CLUSTER SLOTS, asked of a node still running). */
  masterOfSlot(slot: number): Promise<number>;
  /** The port of the master serving the key's slot now. */
  masterOf(key: string): Promise<number>;
  /** The ports of the masters serving slots now, ascending. */
  masterPorts(): Promise<number[]>;
  /** CLUSTER MYID of the node on that port. */
  nodeId(port: number): Promise<string>;
  /** SIGKILLs the node on that port; resolves once its process is gone. */
  killNode(port: number): Promise<void>;
  /** Stops every node; rejects if any of them refused a command with CROSSSLOT meanwhile. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  masters?: number;
  /**
   * Replicas per master (default 0). With replicas the nodes run with a 1 s cluster-node-timeout
   * (2 s without), so that a killed master's replica is promoted soon.
   */
  replicas?: number;
  /** Extra `redis-server` arguments for every node. */
  args?: string[];
}

export function startRedisCluster(options?: RedisClusterOptions): Promise<RedisCluster>;
