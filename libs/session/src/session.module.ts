import { Module } from '@nestjs/common';
import { SessionEvents } from './core/session-events.js';
import { SessionRepository } from './core/session-repository.js';
import { EventEmitterBridge } from './event-emitter-bridge.js';
import { SessionHttpBinding } from './http/session-http-binding.js';
import { SessionBackend } from './session-backend.js';
import { SESSION_OPTIONS } from './session.constants.js';
import { WebSocketRegistryListener } from './websocket/websocket-registry.listener.js';
import { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } from './session.module-definition.js';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionModuleOptions } from './session-options.js';

/**
 * HTTP sessions in Redis, shared by every instance of the app (Spring's @EnableRedisHttpSession).
 *
 * ```ts
 * @Module({ imports: [EnableRedisHttpSession.forRoot({ redis: 'redis://localhost:6379' })] })
 * export class AppModule {}
 * ```
 */
@Module({
  providers: [
    { provide: SESSION_OPTIONS, useFactory: (options: SessionModuleOptions) => resolveSessionOptions(options), inject: [MODULE_OPTIONS_TOKEN] },
    SessionEvents,
    {
      provide: SessionBackend,
      useFactory: (options: ResolvedSessionOptions, events: SessionEvents) => SessionBackend.start(options, events),
      inject: [SESSION_OPTIONS, SessionEvents],
    },
    { provide: SessionRepository, useFactory: (backend: SessionBackend) => backend.repository, inject: [SessionBackend] },
    SessionHttpBinding,
    EventEmitterBridge,
    WebSocketRegistryListener,
  ],
  exports: [SESSION_OPTIONS, SessionEvents, SessionRepository, WebSocketRegistryListener],
})
export class EnableRedisHttpSession extends ConfigurableModuleClass {}
