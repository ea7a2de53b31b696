import { headerLists, replaceResponseHeader, responseHeaderSnapshot, responseHeaderValues, type HttpExchange } from './http-exchange.js';

type HeaderSnapshot = ReturnType<typeof responseHeaderSnapshot>;

/**
 * What a resolver's `setSessionId` did to the response's headers, so that it can be taken back
 * when the session it announced was never stored. Seen as a difference of headers, so it works for
 * any SessionIdResolver (cookie, header, a user's own) and leaves headers others set untouched.
 * Each call's headers are copied before and after it, and compared only if the changes are taken
 * back (a failed save): every login and new session records one call, few ever undo it.
 */
export class ResponseHeaderChanges {
  readonly #calls: [before: HeaderSnapshot, after: HeaderSnapshot][] = [];

  record(exchange: HttpExchange, change: () => void): void {
    const before = responseHeaderSnapshot(exchange);
    change();
    this.#calls.push([before, responseHeaderSnapshot(exchange)]);
  }

  /** Takes the recorded changes back, keeping whatever else was set on those headers meanwhile. */
  undo(exchange: HttpExchange): void {
    const { added, removed } = this.changes();
    const current = responseHeaderValues(exchange);
    for (const name of new Set([...added.keys(), ...removed.keys()])) {
      const ours = added.get(name) ?? new Set<string>();
      const kept = (current.get(name) ?? []).filter((value) => !ours.has(value));
      for (const value of removed.get(name) ?? []) if (!kept.includes(value)) kept.push(value);
      replaceResponseHeader(exchange, name, kept);
    }
    this.#calls.length = 0;
  }

  /** Per header, the values the recorded calls added and those they took away, in the order they ran. */
  private changes(): { added: Map<string, Set<string>>; removed: Map<string, Set<string>> } {
    const added = new Map<string, Set<string>>();
    const removed = new Map<string, Set<string>>();
    for (const [beforeCall, afterCall] of this.#calls) {
      const before = headerLists(beforeCall);
      const after = headerLists(afterCall);
      for (const name of new Set([...before.keys(), ...after.keys()])) {
        const was = before.get(name) ?? [];
        const now = after.get(name) ?? [];
        const addedHere = added.get(name) ?? new Set<string>();
        const removedHere = removed.get(name) ?? new Set<string>();
        for (const value of now) if (!was.includes(value)) addedHere.add(value);
        for (const value of was) {
          if (now.includes(value)) continue;
          // A value an earlier recorded call added and this one replaced (an id changed twice) was never the client's.
          if (!addedHere.delete(value)) removedHere.add(value);
        }
        if (addedHere.size > 0) added.set(name, addedHere);
        if (removedHere.size > 0) removed.set(name, removedHere);
      }
    }
    return { added, removed };
  }
}
