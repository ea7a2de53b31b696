/**
 * The attribute whose value (a string) names the session's user, as in Spring Session.
 * Setting it indexes the session so that `SessionRepository.findByPrincipalName` finds it.
 */
export const PRINCIPAL_NAME_INDEX_NAME =
  'org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME';

/** The principal name held by a serialized attribute value, if it is a non-empty string. */
export function principalFromSerialized(serialized: string | undefined, deserialize: (text: string) => unknown): string | undefined {
  if (serialized === undefined) return undefined;
  try {
    const value = deserialize(serialized);
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Longest principal name that is looked up or indexed (a Redis key is built from it). */
export const MAX_PRINCIPAL_NAME_LENGTH = 1024;

/** True for a principal name that may name sessions: a non-empty string, bounded in length. */
export function isValidPrincipalName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_PRINCIPAL_NAME_LENGTH;
}
