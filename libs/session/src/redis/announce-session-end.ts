import type { SessionEventType } from '../core/session-events.js';
import type { RedisSessionRepository } from './redis-session-repository.js';
import { encodeEventMessage } from './session-event-message.js';

/**
 * Takes a session whose key is gone out of the expiry and principal indexes and tells every
 * instance, principal name included. The sweeper and every instance's keyspace listener may race
 * to do it for the same session; an atomic claim lets exactly one win, so the end is announced
 * once. Resolves to false when another caller (or a deletion through the library) won, or when
 * there was nothing on file to claim (a session that never expires and has no principal).
 */
export async function announceSessionEnd(repository: RedisSessionRepository, type: Exclude<SessionEventType, 'created'>, id: string): Promise<boolean> {
  const { client, scripts, keys } = repository;
  const shard = keys.shardOf(id);
  let principal: string | undefined;
  const stored = await scripts.forget(keys.expirations(shard), keys.expiringPrincipals(shard), id);
  if (stored !== null) {
    principal = stored === '' ? undefined : stored;
  } else {
    // Not in the deadline index: taken by someone else, or never filed (a session that never
    // expires). The latter may still have its principal on file: whoever removes that entry wins.
    const onFile = await client.hget(keys.expiringPrincipals(shard), id);
    if (onFile === null || (await client.hdel(keys.expiringPrincipals(shard), id)) === 0) return false;
    principal = onFile;
  }
  await Promise.all([
    client.publish(keys.eventChannel, encodeEventMessage(type, id, repository.storedPrincipal(principal))),
    principal === undefined ? undefined : client.srem(keys.principalIndex(principal), id),
  ]);
  return true;
}
