import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { concatMap, finalize, from, isObservable, Observable } from 'rxjs';
import type { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import { SessionStoreUnavailableError } from '../core/errors.js';
import type { HttpSession } from '../core/http-session.js';
import { isValidSessionId } from '../core/session-id.js';
import { findFirstLive, SessionRepository } from '../core/session-repository.js';
import { CookieSessionIdResolver } from '../http/cookie-session-id-resolver.js';
import { SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { ThrottledLogger } from '../throttled-logger.js';
import { isOriginAllowed } from './origin-policy.js';
import { sessionReadingMessages } from './session-reading-messages.js';
import { SessionToucher } from './session-toucher.js';
import { MessageSession, runWithMessageSession, SESSION_ENDED_MESSAGE } from './socket-session.js';
import { SESSION_DESTROYED_EVENT, WebSocketRegistryListener, type SessionDestroyedPayload } from './websocket-registry.listener.js';

/** Why a handshake was refused; the client reads it as `connect_error` `err.message` and `err.data.code`. */
export type HandshakeRefusal = 'ORIGIN_NOT_ALLOWED' | 'SESSION_REQUIRED' | 'SESSION_STORE_UNAVAILABLE';

interface SessionParts {
  options: ResolvedSessionOptions;
  repository: SessionRepository;
  registry: WebSocketRegistryListener;
  toucher: SessionToucher;
  cookies: CookieSessionIdResolver;
}

/**
 * Socket.IO with the HTTP session (Spring's SessionRepositoryMessageInterceptor and handshake
 * interceptor, for Socket.IO): `app.useWebSocketAdapter(new SessionIoAdapter(app))`.
 *
 * - handshake: refuses foreign origins and, when required, sockets without a live session;
 *   attaches the session id to the socket (`socket.data.sessionId`) and registers the socket;
 * - each inbound event keeps the session alive (throttled: one write per session per interval);
 * - `@Session()` in a handler loads the session as it is now, and what the handler changes is
 *   saved when it returns.
 * Installed once per namespace and socket, however many gateways share them.
 */
export class SessionIoAdapter extends IoAdapter {
  readonly #installedServers = new WeakSet<Server>();
  readonly #installedNamespaces = new WeakSet<Namespace>();
  readonly #interceptedSockets = new WeakSet<Socket>();
  /** The max-inactive interval of the session each handshake loaded (and so touched). */
  readonly #handshakeIntervals = new WeakMap<Socket, number>();
  #parts: SessionParts | undefined;
  readonly #storeErrors = new ThrottledLogger();

  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override create(port: number, options?: ServerOptions & { namespace?: string; server?: Server }): Server {
    const created = super.create(port, options) as Server | Namespace;
    const root = 'server' in created && !('engine' in created) ? (created as Namespace).server : (created as Server);
    this.installOnServer(root);
    return created as Server;
  }

  override bindMessageHandlers(socket: Socket, handlers: MessageMappingProperties[], transform: (data: any) => Observable<any>): void {
    const { repository } = this.parts();
    const readers = sessionReadingMessages();
    const withSession = handlers.map((handler) =>
      // A handler that never asks for the session needs neither a context nor a commit.
      !readers.has(handler.message)
        ? handler
        : {
            ...handler,
            callback: (data: unknown, ack: unknown) => {
              const messageSession = new MessageSession(socket, socket.data?.sessionId, repository);
              return runWithMessageSession(messageSession, () => this.commitAfter(messageSession, handler.callback(data, ack)));
            },
          },
    );
    super.bindMessageHandlers(socket, withSession, transform);
  }

  private installOnServer(server: Server): void {
    if (this.#installedServers.has(server)) return;
    this.#installedServers.add(server);
    for (const namespace of server._nsps.values()) this.installOnNamespace(namespace);
    server.on('new_namespace', (namespace: Namespace) => this.installOnNamespace(namespace));
  }

  private installOnNamespace(namespace: Namespace): void {
    if (this.#installedNamespaces.has(namespace)) return;
    this.#installedNamespaces.add(namespace);
    namespace.use((socket, next) => {
      this.handshake(socket).then(
        () => next(),
        (error: Error) => next(error),
      );
    });
    namespace.on('connection', (socket: Socket) => this.onConnection(socket));
  }

  /** The handshake interceptor: origin check, then the session the request carries. */
  private async handshake(socket: Socket): Promise<void> {
    const { options, repository } = this.parts();
    const { origin, host } = socket.request.headers;
    if (!isOriginAllowed(origin, host, options.websocket.allowedOrigins)) {
      throw refusal('ORIGIN_NOT_ALLOWED', `Origin ${String(origin).slice(0, 200)} is not allowed to open a socket here`);
    }
    let session: HttpSession | undefined;
    try {
      session = await findFirstLive(repository, this.candidateIds(socket));
    } catch (error) {
      if (error instanceof SessionStoreUnavailableError) {
        throw refusal('SESSION_STORE_UNAVAILABLE', 'The session store is unavailable; please retry shortly');
      }
      throw error;
    }
    if (!session) {
      if (options.websocket.requireSession) throw refusal('SESSION_REQUIRED', 'A live session is required: sign in first');
      return;
    }
    this.#handshakeIntervals.set(socket, session.maxInactiveIntervalInSeconds);
    socket.data = { ...(socket.data ?? {}), sessionId: session.id };
  }

  /** Ids the handshake carries: the session cookie (browsers), then `auth.token` or the token header (other clients). */
  private candidateIds(socket: Socket): string[] {
    const { options, cookies } = this.parts();
    const ids = [...cookies.resolveSessionIds({ rawRequest: socket.request, platformRequest: undefined, platformResponse: undefined })];
    const authToken = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const header = socket.request.headers[options.headerName.toLowerCase()];
    for (const candidate of [authToken, Array.isArray(header) ? header[0] : header]) {
      if (isValidSessionId(candidate) && !ids.includes(candidate)) ids.push(candidate);
    }
    return ids;
  }

  private onConnection(socket: Socket): void {
    const sessionId: string | undefined = socket.data?.sessionId;
    if (sessionId === undefined || this.#interceptedSockets.has(socket)) return;
    this.#interceptedSockets.add(socket);
    const { registry, toucher } = this.parts();
    // Recorded only now: a client gone between handshake and connection never disconnects, and would leak it.
    toucher.touched(sessionId, this.#handshakeIntervals.get(socket) ?? -1);
    registry.register(sessionId, socket);
    socket.once('disconnect', () => {
      if (registry.socketsOf(sessionId).size === 0) toucher.forget(sessionId);
    });
    socket.use((_event, next) => this.onInboundEvent(socket, sessionId, next));
  }

  /** The message interceptor: keeps the session alive; refuses events of a session that has ended. */
  private onInboundEvent(socket: Socket, sessionId: string, next: (error?: Error) => void): void {
    const { toucher } = this.parts();
    if (!toucher.claimTouch(sessionId)) return next();
    toucher.touch(sessionId).then(
      (alive) => {
        if (alive) return next();
        socket.emit('exception', { status: 'error', message: SESSION_ENDED_MESSAGE });
        this.closeEndedSession(socket, sessionId);
      },
      (error: unknown) => {
        // Redis away: let the conversation go on; the touch is retried with the next message.
        toucher.forget(sessionId);
        this.logStoreError(error);
        next();
      },
    );
  }

  /**
   * The session ended without this instance hearing of it (it found out by loading it): close the
   * socket as the registry would have. Sockets of the session on other instances find out on their
   * next touch, or from the event when there is one.
   */
  private closeEndedSession(socket: Socket, sessionId: string): void {
    const { registry, toucher } = this.parts();
    toucher.forget(sessionId);
    registry.closeSession(sessionId, 'expired');
    if (socket.connected) {
      // Not (or no longer) in the registry: close it all the same.
      socket.emit(SESSION_DESTROYED_EVENT, { reason: 'expired' } satisfies SessionDestroyedPayload);
      socket.disconnect(true);
    }
  }

  /** Saves the message's session once the handler's result is ready, before it is acknowledged. */
  private async commitAfter(messageSession: MessageSession, result: unknown): Promise<unknown> {
    const value = await result;
    const commit = () =>
      messageSession.commit().then(
        // After the handler's exception has reached the client: a socket whose session ended is closed.
        () => void (messageSession.sessionEnded && this.closeEndedSession(messageSession.socket, messageSession.sessionId!)),
        (error: unknown) => this.reportCommitFailure(messageSession.socket, error),
      );
    if (isObservable(value)) {
      let committed = false;
      // Interceptors make the handler lazy: it runs when this is subscribed, so subscribe in the message's context.
      const inContext = new Observable<unknown>((subscriber) => runWithMessageSession(messageSession, () => value.subscribe(subscriber)));
      return inContext.pipe(
        concatMap((item) => from(commit().then(() => ((committed = true), item)))),
        finalize(() => void (committed || commit())),
      );
    }
    await commit();
    return value;
  }

  private reportCommitFailure(socket: Socket, error: unknown): void {
    this.logStoreError(error);
    socket.emit('exception', { status: 'error', message: 'Your session could not be saved; please retry shortly' });
  }

  private logStoreError(error: unknown): void {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    this.#storeErrors.warn(`Session store error on a socket: ${error instanceof Error ? error.message : String(error)}${cause}`);
  }

  private parts(): SessionParts {
    if (this.#parts) return this.#parts;
    let options: ResolvedSessionOptions;
    try {
      options = this.app.get<ResolvedSessionOptions>(SESSION_OPTIONS, { strict: false });
    } catch {
      throw new Error('SessionIoAdapter needs EnableRedisHttpSession.forRoot() imported in the application module');
    }
    const repository = this.app.get(SessionRepository, { strict: false });
    this.#parts = {
      options,
      repository,
      registry: this.app.get(WebSocketRegistryListener, { strict: false }),
      toucher: new SessionToucher(repository, options.websocket.touchIntervalSeconds * 1000),
      cookies: new CookieSessionIdResolver(options.cookie),
    };
    return this.#parts;
  }
}

function refusal(code: HandshakeRefusal, message: string): Error {
  return Object.assign(new Error(message), { data: { code } });
}
