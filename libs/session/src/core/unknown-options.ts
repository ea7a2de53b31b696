import { SessionOptionsError } from './errors.js';
import { nearestName } from './nearest-name.js';

/**
 * Refuses a key of `options` that is not among `known`, with the nearest valid name: a misspelt
 * option would otherwise be ignored and its default silently used. `path` prefixes nested names.
 */
export function rejectUnknownOptions(options: object, known: Readonly<Record<string, true>>, path = ''): void {
  const names = Object.keys(known);
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(known, key)) {
      const nearest = nearestName(key, names);
      throw SessionOptionsError.unknown(`${path}${key}`, nearest === undefined ? undefined : `${path}${nearest}`);
    }
  }
}
