import type { HttpExchange } from './http-exchange.js';

/** How long a client should keep a persistent session id. */
export interface SessionIdLifetime {
  /** Seconds from now: until the session's deadline (idle, capped by the absolute lifetime). */
  maxAgeSeconds: number;
}

/**
 * How a session id travels between client and server (Spring's HttpSessionIdResolver).
 * Implementations return only well-formed ids: a malformed value is treated as absent and never
 * reaches the store.
 */
export interface SessionIdResolver {
  /** Candidate ids carried by the request, in order of preference. */
  resolveSessionIds(exchange: HttpExchange): readonly string[];
  /**
   * Tells the client its (new or changed) session id. `lifetime` is given for a "remember me"
   * session (`HttpSession.rememberMe()`): how long the client should keep the id (a cookie's
   * Max-Age); it is given again, later, each time the session's idle timer is refreshed.
   */
  setSessionId(exchange: HttpExchange, id: string, lifetime?: SessionIdLifetime): void;
  /**
   * True when the id must be sent again as the session is used (a persistent cookie, whose expiry
   * then moves with the session); the request's session re-announces it when a load refreshes
   * the idle timer. Optional: false when absent.
   */
  readonly renewsOnTouch?: boolean;
  /** Tells the client its session has ended. */
  expireSession(exchange: HttpExchange): void;
}
