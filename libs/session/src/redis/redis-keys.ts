import { PRINCIPAL_NAME_INDEX_NAME } from '../core/principal.js';

/**
 * Every key and channel the library uses, all under `<namespace>:`. A session's keys carry its id
 * as a hash tag (`{id}`) so that they share one Redis Cluster slot; the expiry index is split in
 * shards, each in a slot of its own.
 */
export class RedisKeys {
  readonly eventChannel: string;
  readonly sessionPrefix: string;

  constructor(
    readonly namespace: string,
    readonly expirationShards: number,
  ) {
    this.eventChannel = `${namespace}:event`;
    this.sessionPrefix = `${namespace}:sessions:`;
  }

  /** The session's hash, with Spring's field names. */
  session(id: string): string {
    return `${this.sessionPrefix}{${id}}`;
  }

  /** The id in a session key, or undefined for any other key. */
  idOfSessionKey(key: string): string | undefined {
    if (!key.startsWith(this.sessionPrefix)) return undefined;
    const tagged = key.slice(this.sessionPrefix.length);
    return tagged.startsWith('{') && tagged.endsWith('}') ? tagged.slice(1, -1) : undefined;
  }

  /** Shard of the expiry index that files this session. */
  shardOf(id: string): number {
    return this.expirationShards === 1 ? 0 : id.charCodeAt(0) % this.expirationShards;
  }

  /** Sorted set: session id -> the earliest time it may expire (epoch ms). */
  expirations(shard: number): string {
    return `${this.namespace}:expirations:{${shard}}`;
  }

  /** Hash beside each shard: session id -> principal name, so the index can be cleaned once a session is gone. */
  expiringPrincipals(shard: number): string {
    return `${this.namespace}:expirations:{${shard}}:principals`;
  }

  /** Set of the ids of one principal's sessions (Spring's layout). */
  principalIndex(principalName: string): string {
    return `${this.namespace}:index:${PRINCIPAL_NAME_INDEX_NAME}:${principalName}`;
  }

  /**
   * Keyevent channels telling of deletions and expiries (their message is the key). Keyevent
   * rather than keyspace notifications: the latter would also tell every instance of each
   * touch's PEXPIRE, a message per request; these carry only the two events we need.
   */
  keyEventChannels(db: number): { del: string; expired: string } {
    return { del: `__keyevent@${db}__:del`, expired: `__keyevent@${db}__:expired` };
  }
}
