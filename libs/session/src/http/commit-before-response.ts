import { Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SessionStoreUnavailableError } from '../core/errors.js';
import { LOGGER_CONTEXT } from '../session.constants.js';
import type { FastifyReplyLike } from './http-exchange.js';
import { RequestSession } from './request-session.js';

/** Headers that describe a held body, not the error body that replaces it. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-disposition', 'etag', 'last-modified'];

type ExpressApp = { response: { end: ServerResponse['end'] } };
type FastifyInstanceLike = {
  addHook(
    name: 'onSend',
    hook: (request: object, reply: FastifyReplyLike, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => void,
  ): unknown;
};

/**
 * The commit half of Spring's SessionRepositoryFilter: a response whose request changed its
 * session completes only once the changes are written, whatever sends it (the handler's result,
 * an exception filter, a guard that denies, a handler with `@Res()`). If the write fails, the
 * response becomes a 503 (a 500 for anything but the store), never a success that lost the user's
 * changes.
 *
 * One hook per application, on the platform's own extension point (Express: the app's response
 * prototype; Fastify: an `onSend` hook), rather than a global interceptor or anything added to
 * each request: measured here, any global interceptor costs every route ~10% of its throughput
 * (Nest's rxjs chain), and wrapping each response's `end` ~5%. Responses of requests that did not
 * change a session pass straight through.
 */
export function holdResponsesUntilCommitted(platformType: string, platform: object): void {
  if (platformType === 'fastify') holdFastifyReplies(platform as FastifyInstanceLike);
  else if (platformType === 'express') holdExpressResponses(platform as ExpressApp);
}

function holdExpressResponses(app: ExpressApp): void {
  const response = app.response;
  if (Object.hasOwn(response, 'end')) return; // already held (the module imported twice for one app)
  const end = response.end;
  response.end = function endAfterCommit(this: ServerResponse & { req?: IncomingMessage }, ...args: unknown[]) {
    const requestSession = this.req && RequestSession.of(this.req);
    if (!requestSession || requestSession.isClean) return end.apply(this, args as Parameters<ServerResponse['end']>);
    // Ended again while held (e.g. an error after @Res() sent): the first response wins.
    if (requestSession.holdResponse()) {
      requestSession.commit().then(
        () => end.apply(this, args as Parameters<ServerResponse['end']>),
        (error: unknown) => {
          if (this.headersSent) {
            // Part of a success already went out (a stream): cut it short rather than complete it.
            this.destroy(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          const failure = failureResponse(error);
          const body = JSON.stringify(failure);
          for (const name of BODY_HEADERS) this.removeHeader(name);
          this.statusCode = failure.statusCode;
          this.setHeader('Content-Type', 'application/json; charset=utf-8');
          this.setHeader('Content-Length', Buffer.byteLength(body));
          end.call(this, body, 'utf8');
        },
      );
    }
    return this;
  } as ServerResponse['end'];
}

function holdFastifyReplies(fastify: FastifyInstanceLike): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const requestSession = RequestSession.of(request);
    if (!requestSession || requestSession.isClean) return done(null, payload);
    requestSession.commit().then(
      () => done(null, payload),
      (error: unknown) => {
        const failure = failureResponse(error);
        reply.code(failure.statusCode).header('content-type', 'application/json; charset=utf-8');
        done(null, JSON.stringify(failure));
      },
    );
  });
}

/** The body of a response whose commit failed, shaped as Nest's own error responses. */
function failureResponse(error: unknown): { statusCode: number; message: string; error: string } {
  if (error instanceof SessionStoreUnavailableError) return error.getResponse() as ReturnType<typeof failureResponse>;
  new Logger(LOGGER_CONTEXT).error(`Saving the session failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return { statusCode: 500, message: 'Internal server error', error: 'Internal Server Error' };
}
