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
  /** The message has no argument that identifies it (see currentMessageSession): its handling runs in an AsyncLocalStorage context. */
  needsStorage = false;

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

/**
 * How the filter and `@Session()` find the session context of the message they run for, without
 * an AsyncLocalStorage where they can: on Node 20 one in use turns on promise hooks for the whole
 * process (measured with npm run bench:ws: a handler reading `@Session()` ran at 0.68x of the raw
 * echo with it; docs/benchmarks.md has the steps since). In order:
 * - while the message's handler is called or its result subscribed, a slot holds the context:
 *   Nest runs the first interceptor (usually the filter) in that window;
 * - after it (the next interceptors and the parameters run after a promise; an interceptor or
 *   guard of the app's may await; the commit comes once the handler is done), the message's ack
 *   function or payload object, new for every message, which they all find in their execution
 *   context's arguments (client, data, ack);
 * - a message with neither (no ack, a primitive payload) runs in an AsyncLocalStorage context.
 */
let current: MessageSession | undefined;
/** On the message's ack function (socket.io makes one per message) rather than in a map: see below. */
const CONTEXT = Symbol('nestjs-redis-session message context');
type AckCarrier = ((...args: unknown[]) => unknown) & { [CONTEXT]?: MessageSession };
/**
 * For messages without an ack. A long-lived map of young entries costs garbage collection on every
 * message (measured for the HTTP path's deadlines, see command-deadline.ts), hence the ack first.
 */
const byPayload = new WeakMap<object, MessageSession>();
let storage: AsyncLocalStorage<MessageSession> | undefined;

function isPayloadObject(data: unknown): data is object {
  return typeof data === 'object' && data !== null;
}

const KEEP = () => {};

/**
 * Files a message's session context under its ack or payload; returns what to call once the
 * message is handled. An ack is dropped with the message; a payload may be kept by the app, so
 * its entry is removed then.
 */
export function registerMessageSession(messageSession: MessageSession, data: unknown, ack: unknown): () => void {
  if (typeof ack === 'function') {
    (ack as AckCarrier)[CONTEXT] = messageSession;
    return KEEP;
  }
  if (!isPayloadObject(data)) {
    messageSession.needsStorage = true;
    return KEEP;
  }
  byPayload.set(data, messageSession);
  return () => byPayload.delete(data);
}

/** Runs part of a gateway message's handling (the call, the subscription) with its session context. */
export function runWithMessageSession<R>(messageSession: MessageSession, handler: () => R): R {
  const previous = current;
  current = messageSession;
  try {
    return messageSession.needsStorage ? (storage ??= new AsyncLocalStorage()).run(messageSession, handler) : handler();
  } finally {
    current = previous;
  }
}

/** The session context of the gateway message that `context` handles, if its handler asks for the session. */
export function currentMessageSession(context: ExecutionContext): MessageSession | undefined {
  if (current !== undefined) return current;
  // The execution context's arguments are the message's (client, data, ack).
  const ack: unknown = context.getArgByIndex(2);
  const data: unknown = context.getArgByIndex(1);
  const filed = typeof ack === 'function' ? (ack as AckCarrier)[CONTEXT] : isPayloadObject(data) ? byPayload.get(data) : undefined;
  return filed ?? storage?.getStore();
}

/** `@Session()` in a gateway handler: at once when this instance's copy serves it (a live session), else once loaded. */
export function resolveSocketSession(context: ExecutionContext, options: { create?: boolean } = {}): HttpSession<any> | Promise<HttpSession<any> | undefined> {
  const messageSession = currentMessageSession(context);
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
