/**
 * The specification of the default serializer, written independently of it: a value is storable
 * when JSON brings it back as it went in, with the two leniencies JSON users expect (a property
 * whose value is `undefined` is left out; -0 comes back as 0).
 */
export function isJsonFaithful(value: unknown, ancestors = new Set<object>()): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false; // undefined, function, symbol, bigint
  }
  if (value === null) return true;
  if (ancestors.has(value)) return false;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) return false;
      for (let i = 0; i < value.length; i++) {
        if (!(i in value) || value[i] === undefined || !isJsonFaithful(value[i], ancestors)) return false;
      }
      return true;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false; // Date, Map, Set, boxed values, typed arrays...
    if (Object.getOwnPropertySymbols(value).length > 0) return false;
    return Object.entries(value).every(([, child]) => child === undefined || isJsonFaithful(child, ancestors));
  } finally {
    ancestors.delete(value);
  }
}

/** What a faithful value looks like once stored and loaded: undefined properties gone, -0 as 0, plain prototypes. */
export function asStored(value: unknown): unknown {
  if (typeof value === 'number') return value === 0 ? 0 : value;
  if (Array.isArray(value)) return value.map(asStored);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      // defineProperty: an own "__proto__" key stays an own key, as JSON.parse makes it.
      if (child !== undefined) Object.defineProperty(out, key, { value: asStored(child), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
