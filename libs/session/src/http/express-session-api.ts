import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExpressSessionView, type CarriesExpressSession, type SessionApiFlavour } from './express-session-view.js';
import type { FastifyReplyLike } from './http-exchange.js';
import { RequestSession } from './request-session.js';
import { failureResponse } from './response-commit-backstop.js';
import type { ResolvedCookieOptions } from './session-cookie-options.js';

type ExpressRequest = IncomingMessage & CarriesExpressSession;
type ExpressLike = {
  use(handler: (request: ExpressRequest, response: ServerResponse, next: (error?: unknown) => void) => void): unknown;
  request: object;
};
type FastifyLike = {
  hasRequestDecorator(name: string): boolean;
  decorateRequest(name: string, value: null): unknown;
  addHook(name: 'onRequest', hook: (request: CarriesExpressSession, reply: FastifyReplyLike, done: (error?: Error) => void) => void): unknown;
};

/**
 * The option `expressSessionApi`: `req.session` (Fastify: `request.session`) and `req.sessionID`
 * as express-session gives them, loaded before anything else of the app runs, so that middleware
 * mounted with `app.use()` (Passport's session, csrf-sync, connect-flash) finds it. Installed
 * when the module is created (before `main.ts` mounts its own middleware). A request without a
 * session id costs no Redis call: its session is made in memory, and stored only once written.
 */
export function installExpressSessionApi(platformType: string, platform: object, cookie: ResolvedCookieOptions | undefined): void {
  if (platformType === 'express') installOnExpress(platform as ExpressLike, cookie);
  else if (platformType === 'fastify') installOnFastify(platform as FastifyLike, cookie);
}

function installOnExpress(app: ExpressLike, cookie: ResolvedCookieOptions | undefined): void {
  Object.defineProperty(app.request, 'sessionID', {
    configurable: true,
    get(this: object) {
      return RequestSession.of(this)?.loaded?.id;
    },
  });
  app.use(function loadExpressSession(request, response, next) {
    load(request, response, cookie).then(
      () => next(),
      (error: unknown) => {
        const failure = failureResponse(error);
        response.writeHead(failure.statusCode, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(failure));
      },
    );
  });
}

function installOnFastify(fastify: FastifyLike, cookie: ResolvedCookieOptions | undefined): void {
  // Declared as @fastify/session declares it: plugins that need a session (@fastify/flash, @fastify/passport) check for it.
  if (!fastify.hasRequestDecorator('session')) fastify.decorateRequest('session', null);
  fastify.addHook('onRequest', (request, reply, done) => {
    load(request, reply, cookie, 'fastify').then(
      () => done(),
      (error: unknown) => {
        const failure = failureResponse(error);
        (reply as FastifyReplyLike & { send(body: string): unknown }).code(failure.statusCode).header('content-type', 'application/json; charset=utf-8');
        (reply as unknown as { send(body: string): unknown }).send(JSON.stringify(failure));
      },
    );
  });
}

async function load(request: CarriesExpressSession, response: unknown, cookie: ResolvedCookieOptions | undefined, flavour: SessionApiFlavour = 'express'): Promise<void> {
  const requestSession = RequestSession.forRequest(request, response);
  if (requestSession === undefined) return;
  const session = await requestSession.get(true);
  request.session = new ExpressSessionView(requestSession, request, cookie, session!, flavour).proxy;
}
