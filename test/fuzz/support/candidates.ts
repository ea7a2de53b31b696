import { CookieSessionIdResolver, type HttpExchange } from 'nestjs-redis-session';
import { MAX_CANDIDATE_IDS } from '../../../libs/session/src/core/session-repository.js';

const resolver = new CookieSessionIdResolver();

/**
 * Whether a request with this Cookie header is looked up under `id`: it must be among the first
 * MAX_CANDIDATE_IDS distinct well-formed SESSION ids the header carries (the bound on lookups).
 */
export function isLookedUp(cookieHeader: string, id: string): boolean {
  const exchange = { rawRequest: { headers: { cookie: cookieHeader } }, platformRequest: undefined, platformResponse: undefined } as unknown as HttpExchange;
  const position = resolver.resolveSessionIds(exchange).indexOf(id);
  return position >= 0 && position < MAX_CANDIDATE_IDS;
}
