import type { HttpSession } from '../core/http-session.js';
import type { SessionData } from '../core/session-data.js';
import type { SessionChange, SessionChangeFeed } from '../core/session-repository.js';

/**
 * The Redis store's change notifications: the save scripts publish `changed` (and `renamed`) on
 * `<namespace>:event` for the sessions marked by `loadWatched()`, the event listener tells them
 * here, and the repository tells its own writes at once (before their caller goes on), so that a
 * copy on this instance is never served after a write made here has completed.
 */
export class RedisChangeFeed implements SessionChangeFeed {
  readonly #listeners = new Set<(change: SessionChange) => void>();
  #live = false;

  constructor(
    readonly loadWatched: (id: string) => Promise<SessionData | undefined>,
    private readonly make: (id: string, data: SessionData) => HttpSession<any>,
  ) {}

  get isLive(): boolean {
    return this.#live;
  }

  restore<T extends Record<string, any>>(id: string, data: SessionData): HttpSession<T> {
    return this.make(id, data);
  }

  listen(listener: (change: SessionChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** @internal A change, told by the event listener or by the repository's own writes. */
  tell(change: SessionChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  /** @internal A write of this process has settled (or is starting): copies of these ids are stale. */
  changedHere(...ids: (string | undefined)[]): void {
    if (this.#listeners.size === 0) return;
    for (const id of new Set(ids)) if (id !== undefined) this.tell({ type: 'changed', sessionId: id });
  }

  /** @internal The event subscription is in place (true) or lost (false); either way, what was told before may be incomplete. */
  setLive(live: boolean): void {
    if (live === this.#live) return;
    this.#live = live;
    this.tell({ type: 'reset' });
  }
}
