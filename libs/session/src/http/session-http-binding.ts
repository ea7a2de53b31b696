import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SessionRepository } from '../core/session-repository.js';
import { SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { RedisSessionRepository } from '../redis/redis-session-repository.js';
import { installExpressSessionApi } from './express-session-api.js';
import { ExpressSessionMigration } from './express-session-migration.js';
import { installCommitBackstop } from './response-commit-backstop.js';
import { bindSessionDependencies, unbindSessionDependencies } from './session-http-dependencies.js';

/** Registers the module's dependencies for the application's HTTP platform instance, and the filter's backstop on it. */
@Injectable()
export class SessionHttpBinding implements OnModuleInit, OnApplicationShutdown {
  #platform: object | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly repository: SessionRepository,
  ) {
    // Now, while NestFactory.create() builds the app: main.ts mounts its middleware (Passport...) later, behind this.
    const adapter = adapterHost.httpAdapter;
    const platform = adapter?.getInstance?.() as object | undefined;
    if (options.expressSessionApi && platform) installExpressSessionApi(adapter.getType(), platform, options.cookie);
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    const platform = adapter?.getInstance?.() as object | undefined;
    if (!platform) return; // an application context without HTTP
    this.#platform = platform;
    const platformType = adapter.getType();
    installCommitBackstop(platformType, platform);
    const { migrateFromExpressSession: migration, redisNamespace } = this.options;
    bindSessionDependencies(platform, {
      repository: this.repository,
      resolver: this.options.idResolver,
      wrapsRawRequest: platformType === 'fastify',
      migration:
        migration && this.repository instanceof RedisSessionRepository
          ? new ExpressSessionMigration(migration, this.repository, redisNamespace)
          : undefined,
    });
  }

  onApplicationShutdown(): void {
    if (this.#platform) unbindSessionDependencies(this.#platform);
  }
}
