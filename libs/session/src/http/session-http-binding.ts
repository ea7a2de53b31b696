import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SessionRepository } from '../core/session-repository.js';
import { SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { holdResponsesUntilCommitted } from './commit-before-response.js';
import { CookieSessionIdResolver } from './cookie-session-id-resolver.js';
import { HeaderSessionIdResolver } from './header-session-id-resolver.js';
import type { SessionIdResolver } from './session-id-resolver.js';

/** What a request needs to find its session: given to each request's context on first use. */
export interface SessionHttpDependencies {
  repository: SessionRepository;
  resolver: SessionIdResolver;
  /** Fastify wraps Node's request (`request.raw`); Express extends it. */
  wrapsRawRequest: boolean;
}

/** Per HTTP platform instance (Express app, Fastify instance): the module's dependencies. */
const bindings = new Map<object, SessionHttpDependencies>();

/**
 * The dependencies for a request, found from the request itself (Express: `req.app`; Fastify:
 * `request.server`), so that the session can be resolved lazily from anywhere — a guard runs
 * before any interceptor — without a middleware on every request's path.
 */
export function sessionDependenciesFor(platformRequest: unknown): SessionHttpDependencies | undefined {
  const request = platformRequest as { app?: object; server?: object };
  const platform = request.app ?? request.server;
  const bound = platform === undefined ? undefined : bindings.get(platform);
  if (bound) return bound;
  // A sub-application (Express `app.use('/x', subApp)`) has its own `req.app`: with one app in the process, it is that one.
  return bindings.size === 1 ? bindings.values().next().value : undefined;
}

/** Registers the module's dependencies for the application's HTTP platform instance. */
@Injectable()
export class SessionHttpBinding implements OnModuleInit, OnApplicationShutdown {
  #platform: object | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly repository: SessionRepository,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    const platform = adapter?.getInstance?.() as object | undefined;
    if (!platform) return; // an application context without HTTP
    this.#platform = platform;
    const platformType = adapter.getType();
    holdResponsesUntilCommitted(platformType, platform);
    const { idResolver, headerName, cookie } = this.options;
    bindings.set(platform, {
      repository: this.repository,
      resolver: idResolver === 'header' ? new HeaderSessionIdResolver(headerName) : new CookieSessionIdResolver(cookie),
      wrapsRawRequest: platformType === 'fastify',
    });
  }

  onApplicationShutdown(): void {
    if (this.#platform) bindings.delete(this.#platform);
  }
}
