import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { Observable } from 'rxjs';
import { SessionStoreUnavailableError } from './core/errors.js';
import { hasSessionParameter } from './decorators/session-parameters.js';
import { RequestSession } from './http/request-session.js';
import { ThrottledLogger } from './throttled-logger.js';
import { currentMessageSession } from './websocket/socket-session.js';

/** What the filter commits for one handler: the session work of an HTTP request or of a gateway message. */
export interface SessionCommit {
  /** True when there is nothing to write. */
  readonly isClean: boolean;
  commit(): Promise<void>;
}

/** What a gateway client is told when the changes of its message could not be stored. */
export const SESSION_NOT_SAVED_MESSAGE = 'Your session could not be saved; please retry shortly';

/**
 * The session filter (Spring's SessionRepositoryFilter), registered by `EnableRedisHttpSession`
 * as a global interceptor (`APP_INTERCEPTOR`): when an HTTP route or a gateway message handler
 * completes, with a value, a promise, an observable or an exception, the session's changes are
 * written before the result goes on; a failed write reaches the app's exception filters (HTTP: a
 * 503 `SessionStoreUnavailableError`; gateways: a `WsException`). A handler's own exception wins
 * over a failure to commit after it.
 *
 * Sessions are loaded lazily and nothing is written for a handler that left its session as it was:
 * such a handler passes through synchronously. What no interceptor can see (a guard that writes and
 * then denies, `@Res()`, an exception filter that writes) is committed by the filter's backstop
 * before the response leaves.
 *
 * Subclass it to change what is committed or how failures surface, and give the subclass as the
 * `sessionFilter` option: forRoot then registers it in this one's place.
 */
@Injectable()
export class SessionRepositoryFilter implements NestInterceptor {
  readonly #commitFailures = new ThrottledLogger();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.shouldCommit(context)) return next.handle();
    // Written as a plain Observable rather than with rxjs operators: it is on every request's path.
    return new Observable((subscriber) => {
      /** Commits and emissions in order; undefined while nothing had to wait. */
      let queue: Promise<void> | undefined;
      const afterCommit = (forward: () => void, failed: (error: unknown) => void): void => {
        const run = (): Promise<void> | void => {
          const work = this.sessionCommitOf(context);
          if (work === undefined || work.isClean) return forward();
          return this.commit(context, work).then(forward, failed);
        };
        if (queue !== undefined) queue = queue.then(run);
        else {
          const pending = run();
          if (pending) queue = pending;
        }
      };
      const subscription = next.handle().subscribe({
        next: (value) => afterCommit(() => subscriber.next(value), (error) => subscriber.error(this.commitFailed(error, context))),
        error: (error: unknown) =>
          afterCommit(
            () => subscriber.error(error),
            (commitError) => {
              this.#commitFailures.warn(`Saving the session after a failed handler failed too: ${messageOf(commitError)}`);
              subscriber.error(error);
            },
          ),
        complete: () => (queue ? void queue.then(() => subscriber.complete()) : subscriber.complete()),
      });
      return () => subscription.unsubscribe();
    });
  }

  /**
   * Whether the filter wraps this handler: an HTTP route with a `@Session()` parameter or whose
   * session a guard already opened, or a gateway message with a session context. Any other route
   * passes through at the cost of a no-op interceptor; if something later writes to its session
   * (an interceptor of the app's, `resolveSession()` in the handler), the backstop stores it.
   */
  protected shouldCommit(context: ExecutionContext): boolean {
    const type = context.getType();
    if (type === 'http') return hasSessionParameter(context.getHandler()) || RequestSession.of(context.getArgByIndex(0)) !== undefined;
    return type === 'ws' && currentMessageSession(context) !== undefined;
  }

  /** The session work of the handler, if it used a session; undefined when there is none. */
  protected sessionCommitOf(context: ExecutionContext): SessionCommit | undefined {
    // The HTTP arguments are (request, response, next); read directly, as switchToHttp() allocates.
    return context.getType() === 'http' ? RequestSession.of(context.getArgByIndex(0)) : currentMessageSession(context);
  }

  /** Writes the handler's session changes; called only when there are some. */
  protected commit(_context: ExecutionContext, work: SessionCommit): Promise<void> {
    return work.commit();
  }

  /** The error that a failed commit becomes, for the app's exception filters. */
  protected commitFailed(error: unknown, context: ExecutionContext): unknown {
    if (context.getType() !== 'ws') return error;
    this.#commitFailures.warn(`Session store error on a socket: ${messageOf(error)}`);
    return new WsException(error instanceof SessionStoreUnavailableError ? SESSION_NOT_SAVED_MESSAGE : 'Could not save the session');
  }
}

function messageOf(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}
