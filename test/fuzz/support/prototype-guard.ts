/** Object.prototype as it was: every own property and its value, to tell whether anything polluted it. */
export function snapshotObjectPrototype(): Map<string | symbol, unknown> {
  const snapshot = new Map<string | symbol, unknown>();
  for (const key of Reflect.ownKeys(Object.prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(Object.prototype, key)!;
    snapshot.set(key, 'value' in descriptor ? descriptor.value : descriptor.get);
  }
  return snapshot;
}

/** Keys of Object.prototype added, removed or changed since the snapshot; empty when untouched. */
export function prototypeChanges(before: Map<string | symbol, unknown>): string[] {
  const after = snapshotObjectPrototype();
  const changes: string[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(key) !== after.get(key) || before.has(key) !== after.has(key)) changes.push(String(key));
  }
  return changes;
}
