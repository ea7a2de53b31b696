import type { SessionEventType } from '../core/session-events.js';
import type { RedisSessionRepository } from './redis-session-repository.js';
import { encodeEventMessage } from './session-event-message.js';

/**
 * Takes a session whose key is gone out of the expiry and principal indexes and tells every
 * instance, principal name included. The sweeper and every instance's keyspace listener may race
 * to do it for the same session; the atomic FORGET lets exactly one win, so the end is announced
 * once. Resolves to false when another caller (or a deletion through the library) won.
 */
export async function announceSessionEnd(repository: RedisSessionRepository, type: Exclude<SessionEventType, 'created'>, id: string): Promise<boolean> {
  const { client, keys } = repository;
  const shard = keys.shardOf(id);
  const stored = await client.sessionForget(keys.expirations(shard), keys.expiringPrincipals(shard), id);
  if (stored === null) return false;
  const principal = stored === '' ? undefined : stored;
  await Promise.all([
    client.publish(keys.eventChannel, encodeEventMessage(type, id, repository.storedPrincipal(principal))),
    principal === undefined ? undefined : client.srem(keys.principalIndex(principal), id),
  ]);
  return true;
}
