import { replaceResponseHeader, responseHeaderValues, type HttpExchange } from './http-exchange.js';

/**
 * What a resolver's `setSessionId` did to the response's headers, so that it can be taken back
 * when the session it announced was never stored. Seen as a difference of headers, so it works for
 * any SessionIdResolver (cookie, header, a user's own) and leaves headers others set untouched.
 */
export class ResponseHeaderChanges {
  /** Per header, the values the recorded calls added and those they took away. */
  readonly #added = new Map<string, Set<string>>();
  readonly #removed = new Map<string, Set<string>>();

  record(exchange: HttpExchange, change: () => void): void {
    const before = responseHeaderValues(exchange);
    change();
    const after = responseHeaderValues(exchange);
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      const was = before.get(name) ?? [];
      const now = after.get(name) ?? [];
      const added = this.#added.get(name) ?? new Set<string>();
      const removed = this.#removed.get(name) ?? new Set<string>();
      for (const value of now) if (!was.includes(value)) added.add(value);
      for (const value of was) {
        if (now.includes(value)) continue;
        // A value an earlier recorded call added and this one replaced (an id changed twice) was never the client's.
        if (!added.delete(value)) removed.add(value);
      }
      if (added.size > 0) this.#added.set(name, added);
      if (removed.size > 0) this.#removed.set(name, removed);
    }
  }

  /** Takes the recorded changes back, keeping whatever else was set on those headers meanwhile. */
  undo(exchange: HttpExchange): void {
    const current = responseHeaderValues(exchange);
    for (const name of new Set([...this.#added.keys(), ...this.#removed.keys()])) {
      const added = this.#added.get(name) ?? new Set<string>();
      const kept = (current.get(name) ?? []).filter((value) => !added.has(value));
      for (const value of this.#removed.get(name) ?? []) if (!kept.includes(value)) kept.push(value);
      replaceResponseHeader(exchange, name, kept);
    }
    this.#added.clear();
    this.#removed.clear();
  }
}
