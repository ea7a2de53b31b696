/** Object.prototype as it was: every own property and its value, to tell whether anything polluted it. */
export function snapshotObjectPrototype(prototype: object = Object.prototype): Map<string | symbol, unknown> {
  const snapshot = new Map<string | symbol, unknown>();
  for (const key of Reflect.ownKeys(prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, key)!;
    snapshot.set(key, 'value' in descriptor ? descriptor.value : descriptor.get);
  }
  return snapshot;
}

/** Keys of the prototype added, removed or changed since the snapshot; empty when untouched. */
export function prototypeChanges(before: Map<string | symbol, unknown>, prototype: object = Object.prototype): string[] {
  const after = snapshotObjectPrototype(prototype);
  const changes: string[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(key) !== after.get(key) || before.has(key) !== after.has(key)) changes.push(String(key));
  }
  return changes;
}

/**
 * The Object.prototype of Node's own realm. Jest runs a test file (and the app it starts) in a
 * context of its own, while Node's core modules (http, net) make their objects in the main one.
 */
export function rootPrototypeOf(value: object): object {
  let prototype = value;
  for (let next = Object.getPrototypeOf(prototype); next !== null; next = Object.getPrototypeOf(prototype)) prototype = next;
  return prototype;
}
