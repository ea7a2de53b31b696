import { SessionAttributeError } from './errors.js';

/**
 * Turns attribute values into the strings stored in the session hash and back.
 * Pluggable through the `serializer` option; the default is {@link JsonSessionSerializer}.
 */
export interface SessionSerializer {
  /** Throws {@link SessionAttributeError} for a value it cannot store faithfully. */
  serialize(value: unknown, attribute: string): string;
  deserialize(text: string, attribute: string): unknown;
}

/**
 * JSON, strictly: a value is accepted only if it comes back exactly as it went in.
 * Refused at `set()`: functions, symbols, BigInt, NaN/Infinity, cycles, `undefined` in arrays,
 * symbol keys, nesting deeper than {@link MAX_DEPTH}, and objects that JSON would flatten
 * silently (Date, Map, Set, class instances...). Two leniencies, as JSON users expect: a
 * property whose value is `undefined` is left out, and -0 comes back as 0.
 */
/** Deeper values are refused with a clear error rather than overflowing the stack at `set()` or at load. */
export const MAX_DEPTH = 1000;

export class JsonSessionSerializer implements SessionSerializer {
  serialize(value: unknown, attribute: string): string {
    // Most attributes are scalars (ids, names, counters): no walk, nothing allocated to check them.
    if (!isJsonScalar(value)) assertJsonSafe(value, attribute, '', new Set(), 0);
    return JSON.stringify(value);
  }

  deserialize(text: string): unknown {
    return JSON.parse(text);
  }
}

function isJsonScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'boolean' || value === null || (typeof value === 'number' && Number.isFinite(value));
}

function refuse(attribute: string, path: string, reason: string): never {
  throw new SessionAttributeError(attribute, path ? `${reason} at ${path}` : reason);
}

function assertJsonSafe(value: unknown, attribute: string, path: string, ancestors: Set<object>, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(attribute, path, `${value} is not representable in JSON`);
      return;
    case 'undefined':
      refuse(attribute, path, 'undefined is not a value (use remove() to delete an attribute)');
      return;
    case 'function':
    case 'symbol':
    case 'bigint':
      refuse(attribute, path, `a ${typeof value} is not serializable`);
      return;
  }
  if (value === null) return;
  const object = value as object;
  if (ancestors.has(object)) refuse(attribute, path, 'the value is cyclic');
  if (depth >= MAX_DEPTH) refuse(attribute, path, `it is nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(object)) {
    ancestors.add(object);
    for (let i = 0; i < object.length; i++) {
      if (object[i] === undefined) refuse(attribute, path, `undefined (or a hole) in an array would become null`);
      assertJsonSafe(object[i], attribute, `${path}[${i}]`, ancestors, depth + 1);
    }
    ancestors.delete(object);
    return;
  }
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) {
    const kind = object.constructor?.name ?? 'object';
    refuse(attribute, path, `a ${kind} would not come back as a ${kind} (store a plain object, or an ISO string for a Date)`);
  }
  if (Object.getOwnPropertySymbols(object).length > 0) refuse(attribute, path, 'symbol keys are not serializable');
  ancestors.add(object);
  for (const key of Object.keys(object)) {
    const child = (object as Record<string, unknown>)[key];
    if (child !== undefined) assertJsonSafe(child, attribute, `${path}.${key}`, ancestors, depth + 1);
  }
  ancestors.delete(object);
}
