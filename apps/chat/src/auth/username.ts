export const MAX_USERNAME_LENGTH = 32;

/** The trimmed user name, or a message saying what is wrong with it. */
export function parseUsername(input: unknown): { username: string } | { error: string } {
  if (typeof input !== 'string') return { error: 'username is required (a string of 1 to 32 characters)' };
  const username = input.trim();
  const length = [...username].length;
  if (length === 0) return { error: 'username must not be empty' };
  if (length > MAX_USERNAME_LENGTH) return { error: `username must be at most ${MAX_USERNAME_LENGTH} characters, got ${length}` };
  // Control characters would let one name pass for another in the online list.
  if (/\p{Cc}/u.test(username)) return { error: 'username must not contain control characters' };
  return { username };
}
