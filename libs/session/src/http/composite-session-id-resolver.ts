import type { HttpExchange } from './http-exchange.js';
import type { SessionIdLifetime, SessionIdResolver } from './session-id-resolver.js';

/**
 * Several ways for the id to travel at once (Spring's CompositeHttpSessionIdResolver): the ids
 * come from the first resolver that finds any, and a new or ended session is told to the client
 * through every resolver. A browser (cookie) and an API client (header) can then share one app:
 *
 * ```ts
 * idResolver: new CompositeSessionIdResolver(new CookieSessionIdResolver(), new HeaderSessionIdResolver('X-Auth-Token'))
 * ```
 */
export class CompositeSessionIdResolver implements SessionIdResolver {
  readonly #resolvers: readonly SessionIdResolver[];

  constructor(...resolvers: SessionIdResolver[]) {
    if (resolvers.length === 0) throw new TypeError('CompositeSessionIdResolver needs at least one resolver');
    this.#resolvers = resolvers;
  }

  resolveSessionIds(exchange: HttpExchange): readonly string[] {
    for (const resolver of this.#resolvers) {
      const ids = resolver.resolveSessionIds(exchange);
      if (ids.length > 0) return ids;
    }
    return [];
  }

  get renewsOnTouch(): boolean {
    return this.#resolvers.some((resolver) => resolver.renewsOnTouch === true);
  }

  setSessionId(exchange: HttpExchange, id: string, lifetime?: SessionIdLifetime): void {
    for (const resolver of this.#resolvers) resolver.setSessionId(exchange, id, lifetime);
  }

  expireSession(exchange: HttpExchange): void {
    for (const resolver of this.#resolvers) resolver.expireSession(exchange);
  }
}
