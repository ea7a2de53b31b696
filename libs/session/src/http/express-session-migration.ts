import signature from 'cookie-signature';
import type { HttpSession } from '../core/http-session.js';
import type { SessionRepository } from '../core/session-repository.js';
import type { RedisSessionRepository } from '../redis/redis-session-repository.js';
import { forEachCookieValue } from './cookie-header.js';
import { requestHeader, setResponseHeader, type HttpExchange } from './http-exchange.js';

/** Where express-session + connect-redis keep their sessions, and how their cookie is signed. */
export interface ResolvedMigrationOptions {
  cookieName: string;
  secrets: string[];
  prefix: string;
}

/** express-session's ids (uid-safe) are base64url; anything else in an old cookie is not looked up. */
const OLD_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** How long a claimed old session points to its new id, for a parallel first request that lost the claim. */
const MOVED_MARKER_MS = 60_000;
/** How long the loser of a claim waits for the winner to store the new session. */
const WAIT_FOR_WINNER_MS = 1000;

/**
 * KEYS[1] the old session (connect-redis' string); KEYS[2] its marker, in the same slot (hash tag).
 * ARGV the new session's id, the marker's lifetime in ms. Claims the old session once: returns
 * {'claimed', its JSON} to the first caller, {'moved', new id} to later ones while the marker
 * lasts, nil when there is no old session. The old key is deleted by the claimer once the new
 * session is stored, so that a failure in between loses nothing.
 */
const CLAIM = `
local moved = redis.call('GET', KEYS[2])
if moved then return {'moved', moved} end
local value = redis.call('GET', KEYS[1])
if not value then return false end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {'claimed', value}
`;

/**
 * Live migration from express-session + connect-redis (`migrateFromExpressSession`): a request
 * that carries a valid signed old cookie and no session of ours has its old session imported
 * once (attributes kept, the old key deleted, our cookie issued, the old cookie cleared), so that
 * nobody is logged out on the day of the switch. Two parallel first requests import it once: the
 * claim is one script, and the loser is pointed to the winner's session. Unsigned, badly signed,
 * malformed or unknown old cookies are ignored.
 */
export class ExpressSessionMigration {
  constructor(
    private readonly options: ResolvedMigrationOptions,
    /** Its client reads the old sessions; its deadline bounds each step (Redis down: a 503, nothing lost). */
    private readonly store: RedisSessionRepository,
    /** Marks the claim's keys as ours, so that two apps migrating from one store do not mix. */
    private readonly namespace: string,
  ) {}

  /** The imported session for this exchange, if it carries an old session to import; undefined otherwise. */
  async importFor(exchange: HttpExchange, repository: SessionRepository): Promise<HttpSession | undefined> {
    const oldId = this.oldIdOf(exchange);
    if (oldId === undefined) return undefined;
    const oldKey = this.options.prefix + oldId;
    const markerKey = `{${oldKey}}:${this.namespace}:migrated`;
    const session = repository.createSession();
    const { client } = this.store;
    const claim = (await this.store.withinDeadline(client.eval(CLAIM, 2, oldKey, markerKey, session.id, MOVED_MARKER_MS))) as [string, string] | null;
    if (claim === null) return undefined;
    const [outcome, value] = claim;
    if (outcome === 'moved') {
      this.clearOldCookie(exchange);
      return this.waitForImported(repository, value);
    }
    const attributes = parseOldSession(value);
    if (attributes === undefined) {
      await this.store.withinDeadline(client.del(markerKey));
      return undefined; // not a session connect-redis wrote: left as it is
    }
    for (const [name, attribute] of Object.entries(attributes)) {
      try {
        session.set(name, attribute);
      } catch {
        // One the serializer refuses (over maxAttributeBytes): the rest of the session is still worth keeping.
      }
    }
    try {
      // Stored at once: a parallel request that lost the claim looks for it under its new id.
      await repository.save(session);
    } catch (error) {
      await this.store.withinDeadline(client.del(markerKey)).catch(() => undefined); // the next request tries again; the old session is untouched
      throw error;
    }
    await this.store.withinDeadline(client.del(oldKey));
    this.clearOldCookie(exchange);
    return session;
  }

  /** The id in a well-signed old cookie (`s:<id>.<signature>`, URL-encoded), checked with each secret. */
  private oldIdOf(exchange: HttpExchange): string | undefined {
    let raw: string | undefined;
    forEachCookieValue(requestHeader(exchange, 'cookie'), this.options.cookieName, (value) => {
      raw = value;
      return true; // the first, as express-session reads it
    });
    if (raw === undefined) return undefined;
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (!value.startsWith('s:')) return undefined; // unsigned: express-session ignores it too
    for (const secret of this.options.secrets) {
      const id = signature.unsign(value.slice(2), secret);
      if (id !== false) return OLD_ID.test(id) ? id : undefined;
    }
    return undefined;
  }

  private clearOldCookie(exchange: HttpExchange): void {
    setResponseHeader(exchange, 'Set-Cookie', `${this.options.cookieName}=; Path=/; Expires=${new Date(0).toUTCString()}; HttpOnly`, this.options.cookieName);
  }

  private async waitForImported(repository: SessionRepository, id: string): Promise<HttpSession | undefined> {
    const giveUp = Date.now() + WAIT_FOR_WINNER_MS;
    for (;;) {
      const session = await repository.findById(id);
      if (session !== undefined || Date.now() >= giveUp) return session;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** The attributes of connect-redis' JSON (express-session's `cookie` left out), or undefined if it is not one. */
function parseOldSession(text: string): Record<string, unknown> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(data)) if (name !== 'cookie' && value !== undefined) attributes[name] = value;
  return attributes;
}
