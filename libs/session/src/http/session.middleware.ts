import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { SessionRepository } from '../core/session-repository.js';
import { SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { CookieSessionIdResolver } from './cookie-session-id-resolver.js';
import { HeaderSessionIdResolver } from './header-session-id-resolver.js';
import { RequestSession } from './request-session.js';
import type { SessionIdResolver } from './session-id-resolver.js';

/**
 * Runs first on every request (before guards) and attaches the lazy session context to it.
 * It reads nothing: the store is asked only when the session is asked for.
 */
@Injectable()
export class SessionMiddleware implements NestMiddleware {
  private readonly resolver: SessionIdResolver;
  private readonly storeTimeoutMs: number;

  constructor(
    @Inject(SESSION_OPTIONS) options: ResolvedSessionOptions,
    private readonly repository: SessionRepository,
  ) {
    this.storeTimeoutMs = options.commandTimeoutMs;
    this.resolver = options.idResolver === 'header' ? new HeaderSessionIdResolver(options.headerName) : new CookieSessionIdResolver(options.cookie);
  }

  use(request: unknown, response: unknown, next: () => void): void {
    RequestSession.attach(request, response, this.repository, this.resolver, this.storeTimeoutMs);
    next();
  }
}
