import type { SessionEventType } from '../core/session-events.js';

/**
 * The library's own messages on `<namespace>:event`, plain text so that a Lua script can build them
 * whatever the serializer:
 * - `type \n id \n principal` for created/deleted/expired, the principal being the attribute's
 *   stored (serialized) value or empty;
 * - `renamed \n newId \n oldId` when a Cluster moves a session to a new id by copying it and
 *   deleting the old key: that deletion is no end of the session, and listeners must know it; also
 *   published by the save script when a watched session (one with sockets) changes its id;
 * - `changed \n id` when a watched session (one with sockets) was written: copies of it are stale.
 * Unknown types are ignored, so that instances of an older version share the channel with newer ones.
 */
export function encodeEventMessage(type: SessionEventType, id: string, storedPrincipal = ''): string {
  return `${type}\n${id}\n${storedPrincipal}`;
}

export function encodeChangedMessage(id: string): string {
  return `changed\n${id}`;
}

export function encodeRenameMessage(oldId: string, newId: string): string {
  return `renamed\n${newId}\n${oldId}`;
}

export type EventMessage =
  | { type: SessionEventType; id: string; storedPrincipal: string }
  | { type: 'renamed'; id: string; oldId: string }
  | { type: 'changed'; id: string };

const TYPES = new Set<string>(['created', 'deleted', 'expired', 'renamed', 'changed']);

export function decodeEventMessage(message: string): EventMessage | undefined {
  const first = message.indexOf('\n');
  const second = message.indexOf('\n', first + 1);
  if (first < 0) return undefined;
  const type = message.slice(0, first);
  if (type === 'changed') return second < 0 ? { type, id: message.slice(first + 1) } : undefined;
  if (second < 0 || !TYPES.has(type)) return undefined;
  const id = message.slice(first + 1, second);
  const rest = message.slice(second + 1);
  return type === 'renamed' ? { type, id, oldId: rest } : { type: type as SessionEventType, id, storedPrincipal: rest };
}
