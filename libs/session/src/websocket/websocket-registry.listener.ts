import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { Socket } from 'socket.io';
import { SessionEvents, type SessionEvent } from '../core/session-events.js';
import { LOGGER_CONTEXT } from '../session.constants.js';

/** Event a socket receives just before the server closes it because its session ended. */
export const SESSION_DESTROYED_EVENT = 'session:destroyed';

export interface SessionDestroyedPayload {
  reason: 'expired' | 'deleted';
}

/** The room every socket of a session joins, for apps that want to address them. */
export function sessionRoom(sessionId: string): string {
  return `session:${sessionId}`;
}

/**
 * Spring's WebSocketRegistryListener for Socket.IO: knows which sockets of this instance belong
 * to which session, and closes them the moment their session ends, whichever instance ended it
 * (the events arrive on every instance). Entries go when their sockets disconnect: no leak.
 */
@Injectable()
export class WebSocketRegistryListener implements OnModuleInit, OnModuleDestroy {
  readonly #logger = new Logger(LOGGER_CONTEXT);
  readonly #socketsBySession = new Map<string, Set<Socket>>();
  readonly #leftListeners = new Set<(sessionId: string) => void>();
  #subscription: Subscription | undefined;

  constructor(private readonly events: SessionEvents) {}

  onModuleInit(): void {
    this.#subscription = this.events.subscribe((event) => this.onSessionEvent(event));
  }

  onModuleDestroy(): void {
    this.#subscription?.unsubscribe();
  }

  /** Records a socket under its session until it disconnects. */
  register(sessionId: string, socket: Socket): void {
    let sockets = this.#socketsBySession.get(sessionId);
    if (!sockets) this.#socketsBySession.set(sessionId, (sockets = new Set()));
    sockets.add(socket);
    void socket.join(sessionRoom(sessionId));
    socket.once('disconnect', () => this.unregister(sessionId, socket));
  }

  /** This instance's live sockets of a session. */
  socketsOf(sessionId: string): ReadonlySet<Socket> {
    return this.#socketsBySession.get(sessionId) ?? new Set();
  }

  /**
   * Calls `listener` each time a session has no socket left on this instance: its last one
   * disconnected, or they were closed because the session ended (after they are closed).
   */
  onSessionLeft(listener: (sessionId: string) => void): () => void {
    this.#leftListeners.add(listener);
    return () => this.#leftListeners.delete(listener);
  }

  /** Number of sessions with sockets on this instance. */
  get sessionCount(): number {
    return this.#socketsBySession.size;
  }

  /**
   * Sends `session:destroyed` to each socket of the session on this instance, then disconnects it;
   * `also` is closed too when it is not (or no longer) registered, e.g. a socket that found out by
   * itself that its session ended.
   */
  closeSession(sessionId: string, reason: SessionDestroyedPayload['reason'], also?: Socket): void {
    const sockets = this.#socketsBySession.get(sessionId);
    this.#socketsBySession.delete(sessionId);
    for (const socket of sockets ?? []) this.closeSocket(socket, reason);
    if (also !== undefined && !sockets?.has(also)) this.closeSocket(also, reason);
    this.left(sessionId);
  }

  /** Tells one socket its session ended (`session:destroyed`), then disconnects it. */
  private closeSocket(socket: Socket, reason: SessionDestroyedPayload['reason']): void {
    if (!socket.connected) return;
    try {
      socket.emit(SESSION_DESTROYED_EVENT, { reason } satisfies SessionDestroyedPayload);
      socket.disconnect(true);
    } catch (error) {
      this.#logger.warn(`Could not close a socket of an ended session: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private unregister(sessionId: string, socket: Socket): void {
    const sockets = this.#socketsBySession.get(sessionId);
    if (!sockets) return;
    sockets.delete(socket);
    if (sockets.size === 0) {
      this.#socketsBySession.delete(sessionId);
      this.left(sessionId);
    }
  }

  private left(sessionId: string): void {
    for (const listener of this.#leftListeners) listener(sessionId);
  }

  private onSessionEvent(event: SessionEvent): void {
    if (event.type === 'deleted' || event.type === 'expired') this.closeSession(event.sessionId, event.type);
  }
}
