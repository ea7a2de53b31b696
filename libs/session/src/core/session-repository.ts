import type { Observable } from 'rxjs';
import type { HttpSession } from './http-session.js';
import type { SessionData } from './session-data.js';
import type { SessionEvent } from './session-events.js';

/**
 * A change a SessionChangeFeed tells: `changed` (the session was written), `renamed` (its id
 * changed: both ids' copies are stale), `reset` (the feed lost or regained its source: every
 * copy may be stale).
 */
export type SessionChange = { type: 'changed'; sessionId: string } | { type: 'renamed'; sessionId: string; oldId: string } | { type: 'reset' };

/**
 * What a store offers so that copies of its sessions can be kept without reloading them (the
 * socket session cache): the sessions loaded through `loadWatched()` have every later change
 * told, as long as `isLive`; the end of a session is told by the store's events as usual.
 */
export interface SessionChangeFeed {
  /** False while changes may go untold (the subscription is down or being renewed): copies must not be used then. */
  readonly isLive: boolean;
  /** The stored state of a live session (undefined when there is none); its changes are told from now on. */
  loadWatched(id: string): Promise<SessionData | undefined>;
  /** A session object made from a stored state, as `findById()` makes it. */
  restore<T extends Record<string, any>>(id: string, data: SessionData): HttpSession<T>;
  /** Calls `listener` with every change, synchronously for the changes this process makes; returns how to stop. */
  listen(listener: (change: SessionChange) => void): () => void;
}

/**
 * Where sessions live (Spring's `FindByIndexNameSessionRepository`). Injectable; the module binds
 * it to the Redis or the in-memory implementation according to the `store` option.
 */
export abstract class SessionRepository {
  /**
   * The events of a repository passed as the `store` option: the module forwards them to
   * SessionEvents (so sockets of a deleted session are closed). Override it to provide them.
   */
  get events(): Observable<SessionEvent> | undefined {
    return undefined;
  }

  /**
   * Change notifications for copies of sessions (the socket session cache), when the store has
   * them; undefined (the default) makes every socket message load its session.
   */
  get changeFeed(): SessionChangeFeed | undefined {
    return undefined;
  }

  /** A new session, not stored until something is written to it and it is saved. */
  abstract createSession<T extends Record<string, any> = Record<string, any>>(): HttpSession<T>;

  /**
   * The live session with this id, or undefined (unknown, malformed, expired or deleted).
   * By default the lookup also refreshes the session's idle timer, in the same round trip;
   * pass `{ touch: false }` for an administrative look that must not keep the session alive.
   */
  abstract findById<T extends Record<string, any> = Record<string, any>>(
    id: string,
    options?: { touch?: boolean },
  ): Promise<HttpSession<T> | undefined>;

  /**
   * Keeps a live session alive without reading it (a socket's throttled touch): resolves to its
   * max-inactive interval in seconds, or undefined when it is gone. By default a `findById`;
   * the Redis store does it in one script.
   */
  async touchById(id: string): Promise<number | undefined> {
    return (await this.findById(id))?.maxInactiveIntervalInSeconds;
  }

  /**
   * Writes what changed. Resolves to false, writing nothing, when the session was deleted or
   * expired since it was loaded: a save never brings a session back.
   */
  abstract save(session: HttpSession<any>): Promise<boolean>;

  /** Deletes the session; a `deleted` event follows on every instance. Unknown ids are ignored. */
  abstract deleteById(id: string): Promise<void>;

  /** The live sessions whose `PRINCIPAL_NAME_INDEX_NAME` attribute equals `principalName`. */
  abstract findByPrincipalName(principalName: string): Promise<HttpSession[]>;

  /** Deletes every session of a principal ("log this user out everywhere"); resolves to how many. */
  async deleteByPrincipalName(principalName: string): Promise<number> {
    const sessions = await this.findByPrincipalName(principalName);
    await Promise.all(sessions.map((session) => this.deleteById(session.id)));
    return sessions.length;
  }
}

/**
 * How many of the ids a request or a handshake carries are looked up, at most. A browser sends
 * one `SESSION` cookie, two when a parent domain's cookie shares the name; a handshake adds its
 * token. Without a bound, 300 well-formed cookies in one 15 KB header cost 300 sequential lookups
 * (Spring tries every one).
 */
export const MAX_CANDIDATE_IDS = 3;

/**
 * The first live session among the ids a client carries, tried in order (several `SESSION`
 * cookies; a handshake's cookie, then its token), the first MAX_CANDIDATE_IDS of them only. One
 * id, the usual case, is one lookup.
 */
export function findFirstLive(repository: SessionRepository, ids: readonly string[], from = 0): Promise<HttpSession | undefined> {
  const last = Math.min(ids.length, MAX_CANDIDATE_IDS) - 1;
  if (from > last) return Promise.resolve(undefined);
  const lookup = repository.findById(ids[from]);
  return from === last ? lookup : lookup.then((session) => session ?? findFirstLive(repository, ids, from + 1));
}
