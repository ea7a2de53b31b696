import type { HttpSession } from '../core/http-session.js';
import type { RequestSession } from './request-session.js';
import type { ResolvedCookieOptions } from './session-cookie-options.js';

type Callback = (error?: unknown) => void;

/** express-session's own members of `req.session`: never attributes. */
const EXPRESS_MEMBERS = new Set(['id', 'cookie', 'regenerate', 'destroy', 'reload', 'save', 'touch', 'resetMaxAge']);
/** On Fastify, @fastify/session's too (what @fastify/passport calls). */
const FASTIFY_MEMBERS = new Set([...EXPRESS_MEMBERS, 'sessionId', 'get', 'set', 'data']);

/** Whose API the view gives: express-session's (Express) or @fastify/session's (Fastify, a superset). */
export type SessionApiFlavour = 'express' | 'fastify';

/** What `req.session` and `req.sessionID` are on: Express' `req`, Fastify's `request`. */
export type CarriesExpressSession = { session?: object };

/**
 * `req.session` as express-session gives it, over the request's HttpSession (the same object
 * `@Session()` gives): attributes as properties, read lazily and written as deltas (setting
 * `req.session.cart` writes that one field), plus express-session's methods. So that Passport,
 * csrf-sync, connect-flash and Nest's own `@Session()` from `@nestjs/common` run on it.
 *
 * A value handed out and changed in place (`req.session.flash.info.push(...)`) is written too:
 * before the commit, each object read is compared with what is stored. After `regenerate()`,
 * `req.session` is a new view of the new session; one kept from before reads what the session
 * held then (Passport's `keepSessionInfo` merges from it).
 */
export class ExpressSessionView {
  /** Names of object values read: they may be changed in place. */
  readonly #objectsRead = new Set<string>();
  #session: HttpSession<any> | undefined;
  /** What the session held when it was regenerated or destroyed: this view then reads it, and writes nothing. */
  #frozen: Map<string, unknown> | undefined;
  readonly proxy: object;
  readonly #members: Set<string>;

  constructor(
    private readonly requestSession: RequestSession,
    private readonly request: CarriesExpressSession,
    private readonly cookie: ResolvedCookieOptions | undefined,
    session: HttpSession<any>,
    private readonly flavour: SessionApiFlavour = 'express',
  ) {
    this.#session = session;
    this.#members = flavour === 'fastify' ? FASTIFY_MEMBERS : EXPRESS_MEMBERS;
    requestSession.watchChangesInPlace(() => this.findChangesInPlace());
    this.proxy = new Proxy(Object.create(null) as object, this.handler());
  }

  /** The id of the session this view shows (express-session's `req.sessionID`). */
  get id(): string | undefined {
    return this.#session?.id;
  }

  private handler(): ProxyHandler<object> {
    return {
      get: (_target, name) => (typeof name === 'symbol' ? undefined : this.#members.has(name) ? this.member(name) : this.read(name)),
      set: (_target, name, value) => this.write(name, value),
      defineProperty: (_target, name, descriptor) => this.write(name, descriptor.value),
      deleteProperty: (_target, name) => this.write(name, undefined),
      has: (_target, name) => typeof name === 'string' && (this.#members.has(name) || this.names().includes(name)),
      // Own enumerable keys as express-session's Session has them: its cookie, then the attributes.
      ownKeys: () => ['cookie', ...this.names()],
      getOwnPropertyDescriptor: (_target, name) => {
        if (typeof name === 'symbol' || (name !== 'cookie' && !this.names().includes(name))) return undefined;
        return { value: name === 'cookie' ? this.cookieView() : this.read(name), writable: true, enumerable: true, configurable: true };
      },
      // No prototype to reach through the view: `req.session.__proto__` is an attribute like any other.
      getPrototypeOf: () => null,
      setPrototypeOf: () => false,
    };
  }

  private read(name: string): unknown {
    if (this.#frozen) return this.#frozen.get(name);
    const value = this.session().get(name);
    if (typeof value === 'object' && value !== null) this.#objectsRead.add(name);
    return value;
  }

  /** `undefined` removes the attribute; a value that cannot be stored throws SessionAttributeError at once. */
  private write(name: string | symbol, value: unknown): boolean {
    if (typeof name === 'symbol') return false;
    if (name === 'cookie') return true; // express-session's cookie is replaced by Passport's merge: nothing to store
    if (this.#members.has(name)) throw new TypeError(`req.session.${name} is express-session's API, not an attribute`);
    if (this.#frozen) throw new TypeError('This req.session was regenerated or destroyed: write to the new req.session');
    if (value === undefined) this.session().remove(name);
    else this.session().set(name, value);
    this.#objectsRead.delete(name);
    return true;
  }

  private names(): string[] {
    if (this.#frozen) return [...this.#frozen.keys()];
    return this.session().attributeNames().filter((name) => !this.#members.has(name));
  }

  private member(name: string): unknown {
    switch (name) {
      case 'id':
      case 'sessionId':
        return this.id;
      case 'get': // @fastify/session's accessors
        return (key: string) => (this.#members.has(key) ? undefined : this.read(key));
      case 'set':
        return (key: string, value: unknown) => {
          this.write(key, value);
        };
      case 'cookie':
        return this.cookieView();
      case 'regenerate':
        // express-session: regenerate(callback); @fastify/session: regenerate(fieldsToKeep?), a promise.
        return (argument?: Callback | string[]) =>
          this.settle(typeof argument === 'function' ? argument : undefined, () => this.regenerate(Array.isArray(argument) ? argument : []));
      case 'data':
        return () => Object.fromEntries(this.names().map((key) => [key, this.read(key)]));
      case 'destroy':
        return (callback?: Callback) => this.settle(callback, () => this.destroy());
      case 'reload':
        return (callback: Callback) => this.settle(callback, () => this.reload());
      case 'save':
        return (callback?: Callback) => this.settle(callback, () => this.requestSession.commit());
      default: // touch, resetMaxAge: the idle timer is refreshed as the session is loaded
        return () => this.proxy;
    }
  }

  /**
   * Runs `work` and calls back as express-session does (on a later tick, the error if any),
   * returning the view; without a callback, a promise, as @fastify/session's methods.
   */
  private settle(callback: Callback | undefined, work: () => Promise<unknown>): object {
    const done = work();
    if (callback === undefined) {
      const result = done.then(() => undefined);
      result.catch(() => undefined); // ignored (express-session's save() without a callback): never an unhandled rejection
      return result;
    }
    done.then(
      () => callback(),
      (error: unknown) => callback(error),
    );
    return this.proxy;
  }

  /** `keep`: attributes carried into the new session (@fastify/session's `regenerate(fields)`). */
  private async regenerate(keep: string[]): Promise<void> {
    const kept = keep.filter((name) => !this.#members.has(name)).map((name) => [name, this.read(name)] as const);
    this.freeze();
    const next = await this.requestSession.regenerate();
    for (const [name, value] of kept) if (value !== undefined) next.set(name, value);
    this.request.session = new ExpressSessionView(this.requestSession, this.request, this.cookie, next, this.flavour).proxy;
  }

  private async destroy(): Promise<void> {
    const session = this.session();
    this.freeze();
    await session.invalidate();
    if (this.request.session === this.proxy) delete this.request.session;
  }

  private async reload(): Promise<void> {
    const fresh = await this.requestSession.reload();
    if (fresh === undefined) throw new Error('failed to load session'); // express-session's own words
    this.#session = fresh;
    this.#objectsRead.clear();
  }

  /** Keeps what the session holds now for reads through this view, which stops writing. */
  private freeze(): void {
    const session = this.session();
    this.#frozen = new Map(this.names().map((name) => [name, session.get(name)]));
    this.#objectsRead.clear();
    this.#session = undefined;
  }

  private findChangesInPlace(): void {
    const session = this.#session;
    if (session === undefined || session.isInvalidated) return;
    for (const name of this.#objectsRead) session.markIfChangedInPlace(name);
  }

  private session(): HttpSession<any> {
    const session = this.#session;
    if (session === undefined) throw new TypeError('This req.session was regenerated or destroyed: use the new req.session');
    return session;
  }

  /** express-session's `req.session.cookie`, read-only: how the session cookie is set (a remembered session's lasts until its deadline). */
  private cookieView(): Record<string, unknown> {
    const session = this.#session;
    const expiresAt = session?.isRemembered ? session.expiresAt : null;
    const maxAge = expiresAt === null ? (this.cookie?.maxAgeSeconds === undefined ? null : this.cookie.maxAgeSeconds * 1000) : expiresAt - Date.now();
    return {
      path: this.cookie?.path ?? '/',
      domain: this.cookie?.domain,
      httpOnly: this.cookie?.httpOnly ?? true,
      secure: this.cookie?.secure === true,
      sameSite: this.cookie?.sameSite?.toLowerCase() ?? 'lax',
      originalMaxAge: maxAge,
      maxAge,
      expires: maxAge === null ? null : new Date(Date.now() + maxAge),
    };
  }
}
