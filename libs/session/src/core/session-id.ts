import { randomBytes } from 'node:crypto';

/** 24 random bytes = 192 bits, written as 32 characters of base64url. */
const ID_BYTES = 24;
export const SESSION_ID_LENGTH = 32;
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export function generateSessionId(): string {
  return randomBytes(ID_BYTES).toString('base64url');
}

/**
 * True for strings shaped like our ids. Everything else (from cookies, headers, handshakes) is
 * treated as "no id", so a hostile value never becomes part of a Redis key.
 * The regex runs in time linear in a bounded input, identical for known and unknown ids.
 */
export function isValidSessionId(value: unknown): value is string {
  return typeof value === 'string' && value.length === SESSION_ID_LENGTH && SESSION_ID_PATTERN.test(value);
}
