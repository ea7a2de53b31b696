/**
 * The Node process the tests run in. Inside a jest test file, `process` is a sandboxed copy whose
 * listeners never fire; jest-circus keeps the real one in its state (it swaps in its own
 * 'unhandledRejection' listener there), so a listener added to it does see rejections.
 */
export function hostProcess(): NodeJS.Process {
  for (const symbol of Object.getOwnPropertySymbols(globalThis)) {
    const state = (globalThis as Record<symbol, { parentProcess?: NodeJS.Process } | undefined>)[symbol];
    if (state && typeof state === 'object' && typeof state.parentProcess?.on === 'function') return state.parentProcess;
  }
  throw new Error('jest-circus state not found: cannot watch for unhandled rejections');
}

/** Records every unhandled rejection until `stop()` is called. */
export function recordUnhandledRejections(): { readonly reasons: unknown[]; stop(): void } {
  const host = hostProcess();
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => void reasons.push(reason);
  host.on('unhandledRejection', listener);
  return { reasons, stop: () => void host.off('unhandledRejection', listener) };
}
