import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, concatMap, from, mergeMap, throwError, type Observable } from 'rxjs';
import { RequestSession } from './request-session.js';
import { toHttpError } from './store-unavailable.js';

/**
 * The commit half of Spring's SessionRepositoryFilter, registered globally by the module:
 * once the handler is done, the session's changes are written before the response leaves,
 * also when the handler throws (the error response then still carries the cookie). A handler's
 * own store call that fails (`invalidate()` with Redis down) becomes a 503 like the filter's.
 */
@Injectable()
export class SessionInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const requestSession = RequestSession.of(http.getRequest());
    if (!requestSession) return next.handle();
    requestSession.bind(http.getRequest(), http.getResponse());
    let commitFailed = false;
    return next.handle().pipe(
      concatMap(async (value) => {
        await requestSession.commit().catch((error: unknown) => {
          commitFailed = true;
          throw error;
        });
        return value;
      }),
      catchError((error: unknown) => {
        if (commitFailed) return throwError(() => error);
        // The handler failed: still write what it changed; its error wins over a failure to commit.
        return from(requestSession.commit().catch(() => undefined)).pipe(mergeMap(() => throwError(() => toHttpError(error))));
      }),
    );
  }
}
