import type { IncomingMessage } from 'node:http';
import type { HttpSession } from '../core/http-session.js';
import { rawRequestOf, type HttpExchange } from './http-exchange.js';
import { sessionDependenciesFor, type SessionHttpDependencies } from './session-http-binding.js';
import { storeOperation } from './store-unavailable.js';

const REQUEST_SESSION = Symbol('nestjs-redis-session:request-session');

/**
 * The session of one HTTP request (the request side of Spring's SessionRepositoryFilter).
 * Made on the first ask (a guard, the decorator, an interceptor) and kept on the raw request;
 * lazy: nothing is read from the store until someone asks for the session, so a request that
 * never does costs nothing at all. Keeps the
 * client's cookie (or header) in step with the session as it changes, at once, so that even a
 * response sent by the handler itself (`@Res()`) carries it.
 */
export class RequestSession {
  #session: HttpSession<any> | undefined;
  #loading: Promise<HttpSession<any> | undefined> | undefined;
  /** The id the client holds, as far as this request knows. */
  #clientId: string | undefined;

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
    const rawRequest = rawRequestOf(platformRequest);
    const requestSession = new RequestSession(dependencies, { rawRequest, platformRequest, platformResponse });
    (rawRequest as IncomingMessage & { [REQUEST_SESSION]?: RequestSession })[REQUEST_SESSION] = requestSession;
    return requestSession;
  }

  /** The request's session context if someone already asked for it (Express or Fastify request, or the raw one). */
  static of(request: object): RequestSession | undefined {
    return (rawRequestOf(request) as IncomingMessage & { [REQUEST_SESSION]?: RequestSession })[REQUEST_SESSION];
  }

  /** The live session of the request; a new one when there is none and `create` is true. */
  async get<T extends Record<string, any>>(create: boolean): Promise<HttpSession<T> | undefined> {
    if (this.#session && !this.#session.isInvalidated) return this.#session;
    if (!this.#session) {
      this.#loading ??= this.load();
      const found = await this.#loading;
      if (this.#session) return this.get(create); // adopted by a concurrent caller meanwhile
      if (found) {
        this.#clientId = found.id;
        return this.adopt(found);
      }
    }
    return create ? this.adopt(this.dependencies.repository.createSession<T>()) : undefined;
  }

  /** True when commit() has nothing to do: no session was used, or nothing of it changed. */
  get isClean(): boolean {
    const session = this.#session;
    return session === undefined || (!session.hasChanges() && !session.hasPendingWrites);
  }

  /** Writes the session's changes (ON_SAVE), if it was used at all. Called once the handler is done. */
  async commit(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    const saved = await storeOperation(async () => {
      await session.flushed();
      return session.isInvalidated || (await session.save());
    }, this.dependencies.storeTimeoutMs);
    // Ended meanwhile (logout elsewhere, expiry): nothing was written, and the client forgets it.
    if (!saved) this.reflect(session);
  }

  private load(): Promise<HttpSession<any> | undefined> {
    const ids = this.dependencies.resolver.resolveSessionIds(this.exchange);
    if (ids.length === 0) return Promise.resolve(undefined);
    return storeOperation(async () => {
      for (const id of ids) {
        const session = await this.dependencies.repository.findById(id);
        if (session) return session;
      }
      return undefined;
    }, this.dependencies.storeTimeoutMs);
  }

  private adopt<T extends Record<string, any>>(session: HttpSession<T>): HttpSession<T> {
    this.#session = session;
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
    // A new session gets its cookie with its first change; an existing one when its id changes.
    if ((session.isNew && !session.hasChanges()) || session.id === this.#clientId) return;
    this.dependencies.resolver.setSessionId(this.exchange, session.id);
    this.#clientId = session.id;
  }
}
