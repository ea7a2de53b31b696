import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule, ModuleRef } from '@nestjs/core';
import { SessionRegistry } from './account/session-registry.js';
import { SessionEvents } from './core/session-events.js';
import { SessionRepository } from './core/session-repository.js';
import { EventEmitterBridge } from './event-emitter-bridge.js';
import { SessionHttpBinding } from './http/session-http-binding.js';
import { SessionBackend } from './session-backend.js';
import { SESSION_OPTIONS } from './session.constants.js';
import { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } from './session.module-definition.js';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionModuleOptions } from './session-options.js';
import { SessionHandshakeInterceptor } from './websocket/session-handshake.interceptor.js';
import { SessionIoAdapterCheck } from './websocket/session-io-adapter.check.js';
import { SessionMessageInterceptor } from './websocket/session-message.interceptor.js';
import { SocketSessionCache } from './websocket/socket-session-cache.js';
import { WebSocketRegistryListener } from './websocket/websocket-registry.listener.js';

/**
 * HTTP sessions in Redis, shared by every instance of the app (Spring's @EnableRedisHttpSession).
 * Registers the session filter as a global interceptor, the socket interceptors that
 * SessionIoAdapter runs, and the WebSocketRegistryListener.
 *
 * ```ts
 * @Module({ imports: [EnableRedisHttpSession.forRoot({ redis: 'redis://localhost:6379' })] })
 * export class AppModule {}
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: SESSION_OPTIONS, useFactory: (options: SessionModuleOptions) => resolveSessionOptions(options), inject: [MODULE_OPTIONS_TOKEN] },
    SessionEvents,
    {
      provide: SessionBackend,
      useFactory: (options: ResolvedSessionOptions, events: SessionEvents) => SessionBackend.start(options, events),
      inject: [SESSION_OPTIONS, SessionEvents],
    },
    { provide: SessionRepository, useFactory: (backend: SessionBackend) => backend.repository, inject: [SessionBackend] },
    {
      // The session filter: the class the options name (a subclass of SessionRepositoryFilter), built with the app's providers.
      provide: APP_INTERCEPTOR,
      useFactory: (options: ResolvedSessionOptions, moduleRef: ModuleRef) => moduleRef.create(options.sessionFilter),
      inject: [SESSION_OPTIONS, ModuleRef],
    },
    SessionRegistry,
    SessionHttpBinding,
    EventEmitterBridge,
    WebSocketRegistryListener,
    SocketSessionCache,
    SessionMessageInterceptor,
    SessionHandshakeInterceptor,
    SessionIoAdapterCheck,
  ],
  exports: [SESSION_OPTIONS, SessionEvents, SessionRepository, SessionRegistry, WebSocketRegistryListener, SessionHandshakeInterceptor, SessionMessageInterceptor, SessionIoAdapterCheck],
})
export class EnableRedisHttpSession extends ConfigurableModuleClass {}
