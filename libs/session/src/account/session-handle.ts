import { createHash } from 'node:crypto';

/** 22 base64url characters: 132 of SHA-256's bits, far beyond guessing. */
const HANDLE_LENGTH = 22;
const HANDLE = new RegExp(`^[A-Za-z0-9_-]{${HANDLE_LENGTH}}$`);

/**
 * The handle by which a page names one of a user's sessions. A one-way hash of the id (an id
 * carries 168 random bits, so it cannot be searched for): a "your devices" list must never hand
 * out the bearer tokens of the user's other sessions. It changes with the id (at login).
 */
export function sessionHandleOf(id: string): string {
  return createHash('sha256').update('nestjs-redis-session:handle:').update(id).digest('base64url').slice(0, HANDLE_LENGTH);
}

/** True for a string shaped as a handle; anything else is not looked up at all. */
export function isWellFormedHandle(handle: unknown): handle is string {
  return typeof handle === 'string' && HANDLE.test(handle);
}
