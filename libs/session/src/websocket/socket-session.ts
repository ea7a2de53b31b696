import type { ExecutionContext } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Socket } from 'socket.io';
import { SessionStoreUnavailableError } from '../core/errors.js';
import type { HttpSession } from '../core/http-session.js';
import type { SessionRepository } from '../core/session-repository.js';
import type { SocketSessionCache } from './socket-session-cache.js';

/** The session side of one inbound socket message: loaded on demand, saved when the handler is done. */
export class MessageSession {
  #loading: Promise<HttpSession<any> | undefined> | undefined;
  /** The loaded session; null once the load found none, undefined while it runs. */
  #loaded: HttpSession<any> | null | undefined;
  /** The socket connected under a session that the load found gone: the adapter closes the socket. */
  sessionEnded = false;

  constructor(
    readonly socket: Socket,
    readonly sessionId: string | undefined,
    private readonly repository: SessionRepository,
    private readonly cache: SocketSessionCache,
  ) {}

  /** The session as it is now in the store (so changes made over HTTP are visible), from this instance's copy while nothing changed. */
  load(): Promise<HttpSession<any> | undefined> {
    this.#loading ??= this.#loaded ? Promise.resolve(this.#loaded) : this.sessionId === undefined ? Promise.resolve(undefined) : this.fetch(this.sessionId);
    return this.#loading;
  }

  /**
   * The session at once, from this instance's copy, when one may be served and nothing was loaded
   * yet; undefined otherwise (then `load()`). No promise: this is a chat message's usual path.
   */
  loadNow(): HttpSession<any> | undefined {
    if (this.#loading !== undefined || this.#loaded !== undefined || this.sessionId === undefined) return undefined;
    const session = this.cache.peek(this.sessionId);
    if (!session) return undefined;
    session.bindTo(this.repository);
    this.#loaded = session;
    return session;
  }

  /** True when commit() has nothing to do: the session was not loaded (or not yet), or nothing of it changed. */
  get isClean(): boolean {
    const session = this.#loaded;
    if (session === null || (this.#loading === undefined && session === undefined)) return true;
    return session !== undefined && (session.isInvalidated || (!session.hasChanges() && !session.hasPendingWrites));
  }

  /** Saves what the handler changed; a session that ended meanwhile is not revived. */
  async commit(): Promise<void> {
    const session = this.#loaded || (await this.#loading?.catch(() => undefined));
    if (!session || session.isInvalidated) return;
    await session.flushed();
    // The store's change feed drops this instance's copy before save() settles (SessionChangeFeed.listen).
    if (session.hasChanges()) await session.save();
  }

  private async fetch(id: string): Promise<HttpSession<any> | undefined> {
    // No touch here: every inbound event already passed the throttled toucher, so a handler that
    // reads the session on each message costs a read, not a write.
    const session = await this.cache.load(id);
    if (!session) this.sessionEnded = true;
    session?.bindTo(this.repository);
    this.#loaded = session ?? null;
    return session;
  }
}

/** What a client is told when an event arrives on a socket whose session has ended. */
export const SESSION_ENDED_MESSAGE = 'Your session has ended: sign in again';

const currentMessage = new AsyncLocalStorage<MessageSession>();

/** Runs a gateway handler with its message's session context. */
export function runWithMessageSession<R>(messageSession: MessageSession, handler: () => R): R {
  return currentMessage.run(messageSession, handler);
}

/** The session context of the gateway message being handled, if its handler asks for the session. */
export function currentMessageSession(): MessageSession | undefined {
  return currentMessage.getStore();
}

/** `@Session()` in a gateway handler: at once when this instance's copy serves it (a live session), else once loaded. */
export function resolveSocketSession(_context: ExecutionContext, options: { create?: boolean } = {}): HttpSession<any> | Promise<HttpSession<any> | undefined> {
  const messageSession = currentMessageSession();
  if (!messageSession) {
    throw new WsException('@Session() in a gateway needs the session adapter: app.useWebSocketAdapter(new SessionIoAdapter(app))');
  }
  return messageSession.loadNow() ?? loadSocketSession(messageSession, options);
}

async function loadSocketSession(messageSession: MessageSession, options: { create?: boolean }): Promise<HttpSession<any> | undefined> {
  let session: HttpSession<any> | undefined;
  try {
    session = await messageSession.load();
  } catch (error) {
    throw new WsException(error instanceof SessionStoreUnavailableError ? 'The session store is unavailable; please retry shortly' : 'Could not load the session');
  }
  // A socket that came with a session is not served once it has ended, whatever the handler accepts.
  if (messageSession.sessionEnded) throw new WsException(SESSION_ENDED_MESSAGE);
  if (!session && (options.create ?? true)) throw new WsException('This socket has no live session: sign in again');
  return session;
}
