import { InternalServerErrorException, type ArgumentsHost } from '@nestjs/common';
import type { HttpSession } from '../core/http-session.js';
import { RequestSession } from './request-session.js';

export interface ResolveSessionOptions {
  /** Create a session when the request has none (default true). */
  create?: boolean;
}

/**
 * The current HTTP request's session, from anywhere that has the ExecutionContext or
 * ArgumentsHost: guards, interceptors, pipes, exception filters (handlers use `@Session()`).
 *
 * ```ts
 * canActivate(context: ExecutionContext) {
 *   const session = await resolveSession(context, { create: false });
 *   return session?.get('userId') !== undefined;
 * }
 * ```
 */
export function resolveSession<T extends Record<string, any> = Record<string, any>>(
  host: ArgumentsHost,
  options: ResolveSessionOptions & { create: false },
): Promise<HttpSession<T> | undefined>;
export function resolveSession<T extends Record<string, any> = Record<string, any>>(
  host: ArgumentsHost,
  options?: ResolveSessionOptions,
): Promise<HttpSession<T>>;
export function resolveSession<T extends Record<string, any>>(
  host: ArgumentsHost,
  options: ResolveSessionOptions = {},
): Promise<HttpSession<T> | undefined> {
  // The HTTP arguments are (request, response, next); read directly, as switchToHttp() allocates.
  const requestSession = RequestSession.forRequest(host.getArgByIndex(0), host.getArgByIndex(1));
  if (!requestSession) {
    return Promise.reject(
      new InternalServerErrorException('No session context on this request: import EnableRedisHttpSession.forRoot() in the application module'),
    );
  }
  // Not an async function: returning the load's own promise saves every session request two microtask hops.
  return requestSession.get<T>(options.create ?? true);
}
