import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { HttpSession } from '../core/http-session.js';
import type { SessionData } from '../core/session-data.js';
import { SessionRepository, type SessionChange, type SessionChangeFeed } from '../core/session-repository.js';
import { WebSocketRegistryListener } from './websocket-registry.listener.js';

/**
 * The longest a copy is served without loading it again, even when no change was told: a net for
 * a subscription that died without its connection closing (a half-open TCP connection).
 */
const MAX_AGE_MS = 5 * 60_000;

interface Entry {
  /** The stored state as loaded; undefined while the load runs. */
  state?: SessionData;
  loading?: Promise<SessionData | undefined>;
  /** When the load was sent. */
  loadedAt: number;
}

/**
 * This instance's copies of the sessions of its sockets, so that `@Session()` in a gateway costs no
 * Redis round trip while nothing changed. Only with a store that tells changes (the Redis store:
 * SessionRepository.changeFeed); otherwise every message loads its session, as the in-memory store
 * does cheaply.
 *
 * A copy is the stored state, never a session object: each message gets a fresh HttpSession made
 * from it, so a handler's unsaved changes never reach another message. A copy is made by the first
 * load of a socket's session (which marks the session in Redis, so that its saves publish
 * `changed`), and dropped when a change is told (a save on any instance, a change of id; at once
 * for a write made on this instance, before its caller goes on), when the last socket of the
 * session here disconnects or is closed (a deleted or expired session: closed first, then dropped),
 * and all of them when the feed's subscription is lost or renewed: while it is down nothing is
 * served from copies. A copy past its session's deadline (idle or absolute, as of its load), or
 * older than MAX_AGE_MS, is loaded again. There are never more copies than sessions with sockets here.
 *
 * The window: a change made on another instance reaches this one by pub/sub. A message handled
 * between the change's script and its `changed` (or `deleted`) message's arrival here sees the
 * session as it was before (today's load would see the new state). A deletion's message is
 * published before the key goes, in the same script, so it is on its way to every instance before
 * the deleting instance even has its reply; a client can only land in the window if its next
 * message reaches this instance faster than that message does (Redis -> here: one hop; the logout
 * response and the next message: Redis -> the other instance -> the client -> here). Such a message
 * also passes the throttled toucher, which may not ask Redis. Once the message arrives, the sockets
 * are closed (`session:destroyed`) before the copy goes, and nothing is served from it again.
 */
@Injectable()
export class SocketSessionCache implements OnModuleInit, OnModuleDestroy {
  readonly #entries = new Map<string, Entry>();
  readonly #feed: SessionChangeFeed | undefined;
  readonly #stops: (() => void)[] = [];

  constructor(
    private readonly repository: SessionRepository,
    private readonly registry: WebSocketRegistryListener,
  ) {
    this.#feed = repository.changeFeed;
  }

  onModuleInit(): void {
    if (!this.#feed) return;
    this.#stops.push(this.#feed.listen((change) => this.onChange(change)));
    this.#stops.push(this.registry.onSessionLeft((id) => this.#entries.delete(id)));
  }

  onModuleDestroy(): void {
    for (const stop of this.#stops.splice(0)) stop();
    this.#entries.clear();
  }

  /** Number of sessions with a copy (at most the sessions with sockets on this instance). */
  get size(): number {
    return this.#entries.size;
  }

  /** The session as a fresh object made from this instance's copy, at once (no promise: the usual message), when the copy may be served. */
  peek(id: string): HttpSession<any> | undefined {
    const feed = this.#feed;
    const entry = feed?.isLive ? this.#entries.get(id) : undefined;
    if (!entry?.state) return undefined;
    const session = this.served(feed!, id, entry.state, entry.loadedAt);
    if (!session) this.#entries.delete(id);
    return session;
  }

  /** A socket message's session, as a fresh object: made from the copy when it may be served, else loaded. */
  load(id: string): Promise<HttpSession<any> | undefined> {
    const feed = this.#feed;
    if (!feed?.isLive) return this.repository.findById(id, { touch: false });
    const served = this.peek(id);
    if (served) return Promise.resolve(served);
    // Concurrent messages of a session share one load.
    const loading = this.#entries.get(id)?.loading;
    if (loading) return loading.then((state) => state && feed.restore(id, state));
    return this.fill(feed, id);
  }

  private fill(feed: SessionChangeFeed, id: string): Promise<HttpSession<any> | undefined> {
    // Only for sessions with sockets here: a copy lives no longer than they do.
    if (this.registry.socketsOf(id).size === 0) return this.repository.findById(id, { touch: false });
    const entry: Entry = { loadedAt: Date.now() };
    const loading = feed.loadWatched(id).then(shared);
    entry.loading = loading;
    this.#entries.set(id, entry);
    return loading.then(
      (state) => {
        // Dropped meanwhile (a change told, a reset, its sockets gone): the state may predate the change; not kept.
        if (this.#entries.get(id) === entry) {
          if (state) {
            entry.state = state;
            entry.loading = undefined;
          } else {
            this.#entries.delete(id);
          }
        }
        return state && feed.restore(id, state);
      },
      (error: unknown) => {
        if (this.#entries.get(id) === entry) this.#entries.delete(id);
        throw error;
      },
    );
  }

  /** A fresh session from a copy, or undefined when the copy may not be served (too old, or its session past its deadline). */
  private served(feed: SessionChangeFeed, id: string, state: SessionData, loadedAt: number): HttpSession<any> | undefined {
    if (Date.now() - loadedAt >= MAX_AGE_MS) return undefined;
    const session = feed.restore(id, state);
    return session.isExpired ? undefined : session;
  }

  private onChange(change: SessionChange): void {
    if (change.type === 'reset') {
      this.#entries.clear();
      return;
    }
    this.#entries.delete(change.sessionId);
    if (change.type === 'renamed') this.#entries.delete(change.oldId);
  }
}

/**
 * Every session object made from a copy reads its attribute map; the first save of one copies the
 * map before changing it (SessionData.attributesShared), so that loads, most messages, copy nothing.
 */
function shared(state: SessionData | undefined): SessionData | undefined {
  if (state) {
    state.attributesShared = true;
    state.touched = undefined;
  }
  return state;
}
