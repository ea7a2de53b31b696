import type { IncomingMessage } from 'node:http';
import { clientMetadataOf } from '../account/client-metadata.js';
import type { HttpSession } from '../core/http-session.js';
import { findFirstLive } from '../core/session-repository.js';
import type { HttpExchange } from './http-exchange.js';
import { ResponseHeaderChanges } from './response-header-changes.js';
import { sessionDependenciesFor, type SessionHttpDependencies } from './session-http-dependencies.js';

/**
 * The request's slot for its session context. On Express this property costs about 1 KB a request
 * (Express sets each `req`'s prototype, so that V8 gives a property added later a hidden class for
 * that one object); a WeakMap instead cost more in young-generation collections than it saved
 * (docs/benchmarks.md, "Express gives every request a hidden class of its own").
 */
const REQUEST_SESSION = Symbol('nestjs-redis-session:request-session');
type CarriesRequestSession = { [REQUEST_SESSION]?: RequestSession };

/**
 * The session of one HTTP request (the request side of Spring's SessionRepositoryFilter).
 * Made on the first ask (a guard, the decorator, an interceptor) and kept on the request;
 * lazy: nothing is read from the store until someone asks for the session, so a request that
 * never does costs nothing at all. Keeps the
 * client's cookie (or header) in step with the session as it changes, at once, so that even a
 * response sent by the handler itself (`@Res()`) carries it.
 */
export class RequestSession {
  #session: HttpSession<any> | undefined;
  /** The load of the session the client names; settles once it is adopted (or found to be none). */
  #loading: Promise<void> | undefined;
  /** The id the client holds, as far as this request knows. */
  #clientId: string | undefined;
  /** Whether the client holds it in a persistent ("remember me") cookie. */
  #clientRemembers = false;
  /** The last commit; the next waits for it, so that the filter and its backstop never write twice at once. */
  #committing: Promise<void> | undefined;
  /** A commit failed: the request's response is that failure, and nothing is tried again. */
  #commitFailed = false;
  /** What announcing the new session's id did to the response, taken back if it is never stored. */
  #announced: ResponseHeaderChanges | undefined;
  /** Looks for attribute values changed in place (express-session's API hands them out); run before any "is there something to commit?". */
  #findChangesInPlace: (() => void) | undefined;

  private constructor(
    private readonly dependencies: SessionHttpDependencies,
    readonly exchange: HttpExchange,
  ) {}

  /**
   * The request's session context, made on first use. Undefined when the module does not serve
   * this application (then `resolveSession` explains what to import).
   */
  static forRequest(platformRequest: object, platformResponse: unknown): RequestSession | undefined {
    const existing = RequestSession.of(platformRequest);
    if (existing) return existing;
    const dependencies = sessionDependenciesFor(platformRequest);
    if (!dependencies) return undefined;
    const rawRequest = dependencies.wrapsRawRequest ? (platformRequest as { raw: IncomingMessage }).raw : (platformRequest as IncomingMessage);
    const requestSession = new RequestSession(dependencies, { rawRequest, platformRequest, platformResponse });
    (platformRequest as CarriesRequestSession)[REQUEST_SESSION] = requestSession;
    return requestSession;
  }

  /** The request's session context if someone already asked for it (the platform's request: Express `req`, Fastify `request`). */
  static of(platformRequest: object): RequestSession | undefined {
    return (platformRequest as CarriesRequestSession)[REQUEST_SESSION];
  }

  /**
   * The live session of the request; a new one when there is none and `create` is true.
   * Written without async functions: this is on every session request's path, and each async
   * step costs a promise and a microtask.
   */
  get<T extends Record<string, any>>(create: boolean): Promise<HttpSession<T> | undefined> {
    if (this.#session === undefined) {
      this.#loading ??= this.load();
      return this.#loading.then(() => this.current<T>(create));
    }
    return Promise.resolve(this.current<T>(create));
  }

  /** True when commit() has nothing to do: no session was used, nothing of it changed, or a commit already failed. */
  get isClean(): boolean {
    this.#findChangesInPlace?.();
    const session = this.#session;
    return session === undefined || this.#commitFailed || (!session.hasChanges() && !session.hasPendingWrites);
  }

  /**
   * Writes the session's changes (ON_SAVE), if there are any. Called by the session filter when the
   * handler completes, and by its backstop before a response leaves; one commit at a time.
   */
  commit(): Promise<void> {
    const previous = this.#committing;
    const committing = previous === undefined ? this.commitNow() : previous.then(() => this.commitNow());
    this.#committing = committing.catch(() => undefined);
    return committing;
  }

  private commitNow(): Promise<void> {
    const session = this.#session;
    if (session === undefined || this.isClean) return Promise.resolve();
    // An invalidated session has nothing to save (its deletion is the handler's own await).
    // The repository bounds each of its operations by the command timeout.
    const saving = session.isInvalidated ? session.flushed().then(() => true) : session.save();
    return saving.then(
      (saved) => {
        // Ended meanwhile (logout elsewhere, expiry): nothing was written, and the client forgets it.
        if (!saved) this.reflect(session);
        else this.#announced = undefined; // what it announced is stored now
      },
      (error: unknown) => {
        this.#commitFailed = true;
        // An id never stored (a new session, a login's new id) must not reach the client: its next
        // request would name a session that does not exist, instead of the one it still has.
        if (session.storedId !== session.id) this.#announced?.undo(this.exchange);
        throw error;
      },
    );
  }

  /** The session once loaded (or made), unless it ended; undefined before. For APIs that must answer synchronously. */
  get loaded(): HttpSession<any> | undefined {
    const session = this.#session;
    return session !== undefined && !session.isInvalidated ? session : undefined;
  }

  /** Registers the check for attribute values changed in place, run before every commit decision. */
  watchChangesInPlace(check: () => void): void {
    this.#findChangesInPlace = check;
  }

  /**
   * express-session's `regenerate()`: the current session ends (deleted everywhere, its sockets
   * closed, as express-session's store.destroy) and a new, empty one takes its place.
   */
  async regenerate(): Promise<HttpSession<any>> {
    const ending = this.#session;
    if (ending !== undefined && !ending.isInvalidated) await ending.invalidate();
    return this.adopt(this.dependencies.repository.createSession());
  }

  /** express-session's `reload()`: the session as stored now, unsaved changes dropped; undefined when it ended meanwhile. */
  async reload(): Promise<HttpSession<any> | undefined> {
    const current = this.loaded;
    if (current === undefined || current.isNew) return current;
    const fresh = await this.dependencies.repository.findById(current.id, { touch: false });
    current.onChange(undefined);
    if (fresh === undefined) {
      this.#session = undefined;
      return undefined;
    }
    return this.adopt(fresh);
  }

  private current<T extends Record<string, any>>(create: boolean): HttpSession<T> | undefined {
    const session = this.#session;
    if (session !== undefined && !session.isInvalidated) return session;
    return create ? this.adopt(this.dependencies.repository.createSession<T>()) : undefined;
  }

  private load(): Promise<void> {
    const { resolver, repository } = this.dependencies;
    const ids = resolver.resolveSessionIds(this.exchange);
    if (ids.length === 0) return this.dependencies.migration ? this.importFromExpressSession() : Promise.resolve();
    return findFirstLive(repository, ids).then((found) => {
      if (found === undefined || this.#session !== undefined) return;
      this.#clientId = found.id;
      this.#clientRemembers = found.isRemembered;
      this.adopt(found);
      // A persistent cookie follows the idle timer: re-issued when the load refreshed it (at most once per touch interval).
      if (found.touchedOnLoad && (found.isRemembered || this.dependencies.resolver.renewsOnTouch === true)) this.announce(found);
    });
  }

  /** No id of ours: an express-session session to import, if the request carries one; our cookie is issued for it. */
  private importFromExpressSession(): Promise<void> {
    return this.dependencies.migration!.importFor(this.exchange, this.dependencies.repository).then((imported) => {
      if (imported === undefined || this.#session !== undefined) return;
      this.adopt(imported);
      this.announce(imported);
    });
  }

  private adopt<T extends Record<string, any>>(session: HttpSession<T>): HttpSession<T> {
    this.#session = session;
    session.bindTo(this.dependencies.repository);
    session.onChange(() => this.reflect(session));
    return session;
  }

  /** Brings the client's cookie/header in line with the session. */
  private reflect(session: HttpSession<any>): void {
    if (session.isInvalidated) {
      const { resolver } = this.dependencies;
      if (this.#clientId !== undefined || resolver.resolveSessionIds(this.exchange).length > 0) {
        resolver.expireSession(this.exchange);
      }
      this.#clientId = undefined;
      return;
    }
    // A new session gets its cookie with its first change; an existing one when its id changes, or when it is remembered.
    if (session.isNew && !session.hasChanges()) return;
    const idChanged = session.id !== this.#clientId;
    if (!idChanged && session.isRemembered === this.#clientRemembers) return;
    if (idChanged) {
      // A new session, or a login's new id: what a "your devices" page will show of this client.
      const client = clientMetadataOf(this.exchange);
      session.recordClient(client.userAgent, client.ip);
    }
    this.announce(session);
  }

  /** Tells the client the session's id: recorded, so that it can be taken back if the session is never stored under it. */
  private announce(session: HttpSession<any>): void {
    const lifetime = session.isRemembered ? { maxAgeSeconds: persistentCookieSeconds(session.expiresAt) } : undefined;
    (this.#announced ??= new ResponseHeaderChanges()).record(this.exchange, () => this.dependencies.resolver.setSessionId(this.exchange, session.id, lifetime));
    this.#clientId = session.id;
    this.#clientRemembers = session.isRemembered;
  }
}

/** Browsers keep a cookie 400 days at most (RFC 6265bis); a session that never expires gets that. */
const MAX_COOKIE_SECONDS = 400 * 24 * 3600;

/** A persistent cookie's Max-Age: until the session's deadline, at least a second. */
function persistentCookieSeconds(expiresAt: number | null): number {
  if (expiresAt === null) return MAX_COOKIE_SECONDS;
  return Math.min(MAX_COOKIE_SECONDS, Math.max(1, Math.ceil((expiresAt - Date.now()) / 1000)));
}
