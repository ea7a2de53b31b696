export { EnableRedisHttpSession } from './session.module.js';
export type {
  SessionModuleOptions, SessionWebSocketOptions, RedisClusterConfig, ResolvedSessionOptions, MigrateFromExpressSessionOptions,
} from './session-options.js';
export type { SessionCookieOptions, SameSite } from './http/session-cookie-options.js';
export { SESSION_OPTIONS } from './session.constants.js';
export { SessionRepositoryFilter, SESSION_NOT_SAVED_MESSAGE, type SessionCommit } from './session-repository-filter.interceptor.js';

export { HttpSession, type MaximumSessions } from './core/http-session.js';
export { SessionRepository } from './core/session-repository.js';
export { SessionRegistry } from './account/session-registry.js';
export type { SessionInfo } from './account/session-info.js';
export { InMemorySessionRepository, type InMemorySessionRepositoryOptions } from './memory/in-memory-session-repository.js';
export { SessionEvents, type SessionEvent, type SessionEventType } from './core/session-events.js';
export { FlushMode } from './core/flush-mode.js';
export { SaveMode } from './core/save-mode.js';
export { PRINCIPAL_NAME_INDEX_NAME } from './core/principal.js';
export { JsonSessionSerializer, type SessionSerializer } from './core/session-serializer.js';
export {
  SessionAttributeError, SessionInvalidatedError, SessionLimitExceededError, SessionStoreUnavailableError, SessionOptionsError,
} from './core/errors.js';
export { generateSessionId, isValidSessionId } from './core/session-id.js';

export { Session } from './decorators/session.decorator.js';
export { resolveSession, type ResolveSessionOptions } from './http/resolve-session.js';
export type { SessionIdResolver, SessionIdLifetime } from './http/session-id-resolver.js';
export type { HttpExchange } from './http/http-exchange.js';
export { CookieSessionIdResolver } from './http/cookie-session-id-resolver.js';
export { HeaderSessionIdResolver } from './http/header-session-id-resolver.js';
export { CompositeSessionIdResolver } from './http/composite-session-id-resolver.js';

export { SessionIoAdapter } from './websocket/session-io.adapter.js';
export { SessionHandshakeInterceptor, type HandshakeRefusal } from './websocket/session-handshake.interceptor.js';
export { SessionMessageInterceptor } from './websocket/session-message.interceptor.js';
export { getSocketSession } from './websocket/socket-session-lookup.js';
export {
  WebSocketRegistryListener, SESSION_DESTROYED_EVENT, sessionRoom, type SessionDestroyedPayload,
} from './websocket/websocket-registry.listener.js';
