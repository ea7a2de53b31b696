import type { SessionRepository } from '../core/session-repository.js';
import type { ExpressSessionMigration } from './express-session-migration.js';
import type { SessionIdResolver } from './session-id-resolver.js';

/** What a request needs to find its session: given to each request's context on first use. */
export interface SessionHttpDependencies {
  repository: SessionRepository;
  resolver: SessionIdResolver;
  /** Fastify wraps Node's request (`request.raw`); Express extends it. */
  wrapsRawRequest: boolean;
  /** Imports express-session's sessions for requests that carry no id of ours (`migrateFromExpressSession`). */
  migration?: ExpressSessionMigration;
}

/** Per HTTP platform instance (Express app, Fastify instance): the module's dependencies. */
const bindings = new Map<object, SessionHttpDependencies>();

/** The only binding, while there is exactly one (the usual case): then every request is served by it. */
let only: SessionHttpDependencies | undefined;

/**
 * The dependencies for a request, found from the request itself (Express: `req.app`; Fastify:
 * `request.server`), so that the session can be resolved lazily from anywhere (a guard runs
 * before any interceptor) without a middleware on every request's path.
 */
export function sessionDependenciesFor(platformRequest: unknown): SessionHttpDependencies | undefined {
  // With one app in the process, it is that one, whatever the request says: a sub-application
  // (Express `app.use('/x', subApp)`) has its own `req.app`. Not read then: on Express each `req`
  // has a hidden class of its own, so every property read of it misses V8's caches.
  if (only !== undefined) return only;
  const request = platformRequest as { app?: object; server?: object };
  const platform = request.app ?? request.server;
  return platform === undefined ? undefined : bindings.get(platform);
}

export function bindSessionDependencies(platform: object, dependencies: SessionHttpDependencies): void {
  bindings.set(platform, dependencies);
  only = onlyBinding();
}

export function unbindSessionDependencies(platform: object): void {
  bindings.delete(platform);
  only = onlyBinding();
}

function onlyBinding(): SessionHttpDependencies | undefined {
  return bindings.size === 1 ? bindings.values().next().value : undefined;
}
