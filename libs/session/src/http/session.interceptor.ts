import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { RequestSession } from './request-session.js';
import { toHttpError } from './store-unavailable.js';

/**
 * The commit half of Spring's SessionRepositoryFilter, registered globally by the module:
 * once the handler is done, the session's changes are written before the response leaves,
 * also when the handler throws (the error response then still carries the cookie). A handler's
 * own store call that fails (`invalidate()` with Redis down) becomes a 503 like the filter's.
 *
 * Written as a plain Observable rather than with rxjs operators: it is on every request's path,
 * and a request that left its session unchanged passes through synchronously, with no allocation.
 */
@Injectable()
export class SessionInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<object>();
    return new Observable((subscriber) => {
      /** Commits and emissions in order; undefined while nothing had to wait. */
      let queue: Promise<void> | undefined;
      const afterCommit = (then: () => void, onCommitError: (error: unknown) => void) => {
        const requestSession = RequestSession.of(request);
        if (!queue && (!requestSession || requestSession.isClean)) return then();
        queue = (queue ?? Promise.resolve()).then(() => requestSession?.commit()).then(then, onCommitError);
      };
      const subscription = next.handle().subscribe({
        next: (value) => afterCommit(() => subscriber.next(value), (error) => subscriber.error(error)),
        // The handler failed: still write what it changed; its error wins over a failure to commit.
        error: (error: unknown) => afterCommit(() => subscriber.error(toHttpError(error)), () => subscriber.error(toHttpError(error))),
        complete: () => (queue ? void queue.then(() => subscriber.complete()) : subscriber.complete()),
      });
      return () => subscription.unsubscribe();
    });
  }
}
