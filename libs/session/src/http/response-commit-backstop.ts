import { HttpException, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOGGER_CONTEXT } from '../session.constants.js';
import type { FastifyReplyLike } from './http-exchange.js';
import { RequestSession } from './request-session.js';

/** Headers that describe a held body, not the error body that replaces it. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-disposition', 'etag', 'last-modified', 'transfer-encoding'];

/** The ServerResponse methods through which anything reaches the wire. */
const OUTPUT_METHODS = ['writeHead', 'write', 'end', 'flushHeaders'] as const;
type OutputMethod = (typeof OUTPUT_METHODS)[number];
type Output = (this: ServerResponse, ...args: unknown[]) => unknown;

type ExpressResponsePrototype = Record<OutputMethod, Output>;
type FastifyInstanceLike = {
  addHook(
    name: 'onSend',
    hook: (request: object, reply: FastifyReplyLike, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => void,
  ): unknown;
};

const HOLD = Symbol('nestjs-redis-session:held-response');
const INSTALLED = Symbol('nestjs-redis-session:backstop');

/** A response held while its session commits: the calls it received, replayed once the commit is done. */
interface Hold {
  calls: [Output, unknown[]][];
  /** held: calls are recorded; released: they pass; dropped: the failure response went out, and what the held writers still send is dropped. */
  state: 'held' | 'released' | 'dropped';
}
type HeldResponse = ServerResponse & { req?: IncomingMessage; [HOLD]?: Hold };

/**
 * The session filter's backstop, for what an interceptor cannot see: a guard that writes to the
 * session and then denies, a handler that answers through `@Res()`, an exception filter that
 * writes. A response whose request still has uncommitted changes when it starts to go out is held
 * whole (status, headers, body) until they are stored; if storing fails, it becomes a 503 (a 500
 * for anything but the store), never a success that lost the user's changes. Responses whose
 * session the filter already committed, or that never used one, pass straight through.
 *
 * Installed once per application on the platform's own extension point (Express: the app's
 * response prototype, `app.response`, so that middleware which captures `res.write`/`res.end`
 * when it runs, such as compression or express-session, writes through the hold too; Fastify: an
 * `onSend` hook).
 */
export function installCommitBackstop(platformType: string, platform: object): void {
  if (platformType === 'fastify') holdFastifyReplies(platform as FastifyInstanceLike);
  else if (platformType === 'express') holdExpressResponses((platform as { response: ExpressResponsePrototype }).response);
}

function holdExpressResponses(prototype: ExpressResponsePrototype & { [INSTALLED]?: true }): void {
  if (prototype[INSTALLED]) return; // the module imported twice for one app
  prototype[INSTALLED] = true;
  const originals = {} as Record<OutputMethod, Output>;
  for (const method of OUTPUT_METHODS) {
    const original = prototype[method];
    originals[method] = original;
    prototype[method] = function heldOutput(this: HeldResponse, ...args: unknown[]) {
      const hold = this[HOLD] ?? startHold(this, originals);
      if (hold === undefined || hold.state === 'released') return original.apply(this, args);
      // Callers that see no headers sent yet (compression, Node's own write) ask for writeHead again: the first one counts.
      if (hold.state === 'held' && !(method === 'writeHead' && hold.calls.some(([output]) => output === original))) hold.calls.push([original, args]);
      // Held (or dropped after the failure response went out): the caller goes on as if written.
      return method === 'write' ? true : method === 'flushHeaders' ? undefined : this;
    };
  }
}

/** Starts holding the response if its session has changes to store; undefined otherwise. */
function startHold(response: HeldResponse, originals: Record<OutputMethod, Output>): Hold | undefined {
  const requestSession = response.req && RequestSession.of(response.req);
  if (!requestSession || requestSession.isClean) return undefined;
  const hold: Hold = { calls: [], state: 'held' };
  response[HOLD] = hold;
  requestSession.commit().then(
    () => {
      hold.state = 'released';
      for (const [output, args] of hold.calls) output.apply(response, args);
      hold.calls = [];
    },
    (error: unknown) => {
      hold.calls = [];
      if (response.headersSent) {
        hold.state = 'dropped';
        // Part of a success already went out (the session changed mid-stream): cut it short rather than complete it.
        response.destroy(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      const failure = failureResponse(error);
      const body = JSON.stringify(failure);
      for (const name of BODY_HEADERS) response.removeHeader(name);
      response.statusCode = failure.statusCode;
      response.setHeader('Content-Type', 'application/json; charset=utf-8');
      response.setHeader('Content-Length', Buffer.byteLength(body));
      hold.state = 'released'; // for the failure response itself: Node's end() calls writeHead through the wrappers
      originals.end.call(response, body, 'utf8');
      hold.state = 'dropped';
    },
  );
  return hold;
}

function holdFastifyReplies(fastify: FastifyInstanceLike): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const requestSession = RequestSession.of(request);
    if (!requestSession || requestSession.isClean) return done(null, payload);
    requestSession.commit().then(
      () => done(null, payload),
      (error: unknown) => {
        const failure = failureResponse(error);
        for (const name of BODY_HEADERS) reply.removeHeader(name);
        reply.code(failure.statusCode).header('content-type', 'application/json; charset=utf-8');
        done(null, JSON.stringify(failure));
      },
    );
  });
}

/** The body of a response whose session could not be loaded or stored, shaped as Nest's own error responses. */
export function failureResponse(error: unknown): { statusCode: number; message: string; error: string } {
  // The store being down (503), a refused login (SessionLimitExceededError, 409): the response they describe.
  if (error instanceof HttpException) return error.getResponse() as ReturnType<typeof failureResponse>;
  new Logger(LOGGER_CONTEXT).error(`Saving the session failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return { statusCode: 500, message: 'Internal server error', error: 'Internal Server Error' };
}
