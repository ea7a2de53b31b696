import type { SessionEventType } from '../core/session-events.js';

/**
 * The library's own event messages on `<namespace>:event`: `type \n id \n principal`, the principal
 * being the attribute's stored (serialized) value or empty. Plain text, so that a Lua script can
 * append the stored value whatever the serializer.
 */
export function encodeEventMessage(type: SessionEventType, id: string, storedPrincipal = ''): string {
  return `${type}\n${id}\n${storedPrincipal}`;
}

export interface EventMessage {
  type: SessionEventType;
  id: string;
  storedPrincipal: string;
}

const TYPES = new Set<string>(['created', 'deleted', 'expired']);

export function decodeEventMessage(message: string): EventMessage | undefined {
  const first = message.indexOf('\n');
  const second = message.indexOf('\n', first + 1);
  if (first < 0 || second < 0) return undefined;
  const type = message.slice(0, first);
  if (!TYPES.has(type)) return undefined;
  return { type: type as SessionEventType, id: message.slice(first + 1, second), storedPrincipal: message.slice(second + 1) };
}
