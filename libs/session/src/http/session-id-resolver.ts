import type { HttpExchange } from './http-exchange.js';

/**
 * How a session id travels between client and server (Spring's HttpSessionIdResolver).
 * Implementations return only well-formed ids: a malformed value is treated as absent and never
 * reaches the store.
 */
export interface SessionIdResolver {
  /** Candidate ids carried by the request, in order of preference. */
  resolveSessionIds(exchange: HttpExchange): readonly string[];
  /** Tells the client its (new or changed) session id. */
  setSessionId(exchange: HttpExchange, id: string): void;
  /** Tells the client its session has ended. */
  expireSession(exchange: HttpExchange): void;
}
