import { Inject, Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { SessionStoreUnavailableError } from '../core/errors.js';
import type { HttpSession } from '../core/http-session.js';
import { isValidSessionId } from '../core/session-id.js';
import { findFirstLive, SessionRepository } from '../core/session-repository.js';
import { CookieSessionIdResolver } from '../http/cookie-session-id-resolver.js';
import type { HttpExchange } from '../http/http-exchange.js';
import { SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { isOriginAllowed } from './origin-policy.js';
import { SessionMessageInterceptor } from './session-message.interceptor.js';
import { recordSocketRepository } from './socket-session-lookup.js';
import { WebSocketRegistryListener } from './websocket-registry.listener.js';

/** Why a handshake was refused; the client reads it as `connect_error` `err.message` and `err.data.code`. */
export type HandshakeRefusal = 'ORIGIN_NOT_ALLOWED' | 'SESSION_REQUIRED' | 'SESSION_STORE_UNAVAILABLE';

/**
 * The handshake interceptor (Spring's SessionRepositoryMessageInterceptor, as a HandshakeInterceptor),
 * run by SessionIoAdapter on every namespace: refuses foreign origins (cross-site WebSocket
 * hijacking) and, when a session is required, sockets without a live one; gives the socket its
 * session id (`socket.data.sessionId`), and once connected registers it so that it is closed when
 * its session ends.
 */
@Injectable()
export class SessionHandshakeInterceptor {
  /** The max-inactive interval of the session each handshake loaded (and so touched). */
  readonly #handshakeIntervals = new WeakMap<Socket, number>();
  readonly #cookies: CookieSessionIdResolver | undefined;

  constructor(
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly repository: SessionRepository,
    private readonly registry: WebSocketRegistryListener,
    private readonly messages: SessionMessageInterceptor,
  ) {
    // Browsers send the cookie with the handshake whatever resolver HTTP uses.
    this.#cookies = options.idResolver instanceof CookieSessionIdResolver ? undefined : new CookieSessionIdResolver(options.cookie);
  }

  /** Before the socket is admitted (a namespace middleware): origin check, then the session the request carries. */
  async beforeHandshake(socket: Socket): Promise<void> {
    const { origin, host } = socket.request.headers;
    if (!isOriginAllowed(origin, host, this.options.websocket.allowedOrigins)) {
      throw refusal('ORIGIN_NOT_ALLOWED', `Origin ${String(origin).slice(0, 200)} is not allowed to open a socket here`);
    }
    let session: HttpSession | undefined;
    try {
      session = await findFirstLive(this.repository, this.candidateIds(socket));
    } catch (error) {
      if (error instanceof SessionStoreUnavailableError) {
        throw refusal('SESSION_STORE_UNAVAILABLE', 'The session store is unavailable; please retry shortly');
      }
      throw error;
    }
    if (!session && this.options.websocket.requireSession) throw refusal('SESSION_REQUIRED', 'A live session is required: sign in first');
    recordSocketRepository(socket, this.repository);
    if (!session) return;
    this.#handshakeIntervals.set(socket, session.maxInactiveIntervalInSeconds);
    socket.data = { ...(socket.data ?? {}), sessionId: session.id };
  }

  /** Once the socket is connected: registered under its session, and its inbound events keep the session alive. */
  afterHandshake(socket: Socket): void {
    const sessionId: string | undefined = socket.data?.sessionId;
    // Only now: a client gone between handshake and connection never disconnects, and would leak its entry.
    if (sessionId === undefined || !this.#handshakeIntervals.has(socket)) return;
    const interval = this.#handshakeIntervals.get(socket)!;
    this.#handshakeIntervals.delete(socket); // once per socket, however many gateways share its namespace
    this.registry.register(sessionId, socket);
    this.messages.attach(socket, sessionId, interval);
  }

  /** Ids the handshake carries: as HTTP reads them (the cookie, for browsers), then `auth.token` or the token header (other clients). */
  private candidateIds(socket: Socket): string[] {
    const exchange: HttpExchange = { rawRequest: socket.request, platformRequest: undefined, platformResponse: undefined };
    const ids = [...this.options.idResolver.resolveSessionIds(exchange)];
    for (const id of this.#cookies?.resolveSessionIds(exchange) ?? []) if (!ids.includes(id)) ids.push(id);
    const authToken = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const header = socket.request.headers[this.options.headerName.toLowerCase()];
    for (const candidate of [authToken, Array.isArray(header) ? header[0] : header]) {
      if (isValidSessionId(candidate) && !ids.includes(candidate)) ids.push(candidate);
    }
    return ids;
  }
}

function refusal(code: HandshakeRefusal, message: string): Error {
  return Object.assign(new Error(message), { data: { code } });
}
