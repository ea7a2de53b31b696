import type { IncomingMessage } from 'node:http';
import type { HttpSession } from '../core/http-session.js';
import type { SessionRepository } from '../core/session-repository.js';
import { rawRequestOf, type HttpExchange } from './http-exchange.js';
import type { SessionIdResolver } from './session-id-resolver.js';
import { storeOperation } from './store-unavailable.js';

const REQUEST_SESSION = Symbol('nestjs-redis-session:request-session');

/**
 * The session of one HTTP request (the request side of Spring's SessionRepositoryFilter).
 * Attached to the request before guards run, and lazy: nothing is read from the store until
 * someone asks for the session, so a request that never does costs no Redis call. Keeps the
 * client's cookie (or header) in step with the session as it changes, at once, so that even a
 * response sent by the handler itself (`@Res()`) carries it.
 */
export class RequestSession {
  #session: HttpSession<any> | undefined;
  #loading: Promise<HttpSession<any> | undefined> | undefined;
  /** The id the client holds, as far as this request knows. */
  #clientId: string | undefined;

  private constructor(
    private readonly repository: SessionRepository,
    private readonly resolver: SessionIdResolver,
    /** How long the request waits for the store before answering 503. */
    private readonly storeTimeoutMs: number,
    readonly exchange: HttpExchange,
  ) {}

  static attach(request: unknown, response: unknown, repository: SessionRepository, resolver: SessionIdResolver, storeTimeoutMs: number): RequestSession {
    const rawRequest = rawRequestOf(request);
    const existing = (rawRequest as IncomingMessage & { [REQUEST_SESSION]?: RequestSession })[REQUEST_SESSION];
    if (existing) return existing;
    const requestSession = new RequestSession(repository, resolver, storeTimeoutMs, { rawRequest, platformRequest: request, platformResponse: response });
    Object.defineProperty(rawRequest, REQUEST_SESSION, { value: requestSession });
    return requestSession;
  }

  /** The request's session context, given the platform's request (Express or Fastify) or the raw one. */
  static of(request: unknown): RequestSession | undefined {
    if (typeof request !== 'object' || request === null) return undefined;
    return (rawRequestOf(request) as IncomingMessage & { [REQUEST_SESSION]?: RequestSession })[REQUEST_SESSION];
  }

  /** Records the platform's own request/response objects (Fastify's wrap the raw ones the middleware saw). */
  bind(platformRequest: unknown, platformResponse: unknown): this {
    this.exchange.platformRequest = platformRequest;
    this.exchange.platformResponse = platformResponse;
    return this;
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
    return create ? this.adopt(this.repository.createSession<T>()) : undefined;
  }

  /** Writes the session's changes (ON_SAVE), if it was used at all. Called once the handler is done. */
  async commit(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    const saved = await storeOperation(async () => {
      await session.flushed();
      return session.isInvalidated || (await session.save());
    }, this.storeTimeoutMs);
    // Ended meanwhile (logout elsewhere, expiry): nothing was written, and the client forgets it.
    if (!saved) this.reflect(session);
  }

  private load(): Promise<HttpSession<any> | undefined> {
    return storeOperation(async () => {
      for (const id of this.resolver.resolveSessionIds(this.exchange)) {
        const session = await this.repository.findById(id);
        if (session) return session;
      }
      return undefined;
    }, this.storeTimeoutMs);
  }

  private adopt<T extends Record<string, any>>(session: HttpSession<T>): HttpSession<T> {
    this.#session = session;
    session.onChange(() => this.reflect(session));
    return session;
  }

  /** Brings the client's cookie/header in line with the session. */
  private reflect(session: HttpSession<any>): void {
    if (session.isInvalidated) {
      if (this.#clientId !== undefined || this.resolver.resolveSessionIds(this.exchange).length > 0) {
        this.resolver.expireSession(this.exchange);
      }
      this.#clientId = undefined;
      return;
    }
    // A new session gets its cookie with its first change; an existing one when its id changes.
    if ((session.isNew && !session.hasChanges()) || session.id === this.#clientId) return;
    this.resolver.setSessionId(this.exchange, session.id);
    this.#clientId = session.id;
  }
}
