import { Inject, Injectable } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { isObservable, Observable } from 'rxjs';
import type { Socket } from 'socket.io';
import { SessionRepository } from '../core/session-repository.js';
import { SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { ThrottledLogger } from '../throttled-logger.js';
import { sessionReadingMessages } from './session-reading-messages.js';
import { SessionToucher } from './session-toucher.js';
import { SocketSessionCache } from './socket-session-cache.js';
import { MessageSession, registerMessageSession, runWithMessageSession, SESSION_ENDED_MESSAGE } from './socket-session.js';
import { WebSocketRegistryListener } from './websocket-registry.listener.js';

/**
 * The message interceptor (Spring's SessionRepositoryMessageInterceptor, as a ChannelInterceptor),
 * run by SessionIoAdapter on every socket admitted under a session:
 * - each inbound event keeps the session alive, throttled: at most one store write per session per
 *   touch interval, however many messages arrive (Spring writes on every frame);
 * - an event on a socket whose session has ended is refused, and the socket closed;
 * - a handler that asks for `@Session()` gets its message's session, loaded as it is now (so it
 *   sees HTTP changes); the session filter stores what the handler changed.
 */
@Injectable()
export class SessionMessageInterceptor {
  readonly #toucher: SessionToucher;
  readonly #storeErrors = new ThrottledLogger();

  constructor(
    @Inject(SESSION_OPTIONS) options: ResolvedSessionOptions,
    private readonly repository: SessionRepository,
    private readonly registry: WebSocketRegistryListener,
    private readonly cache: SocketSessionCache,
  ) {
    this.#toucher = new SessionToucher(repository, options.websocket.touchIntervalSeconds * 1000);
  }

  /** Starts intercepting a connected socket's inbound events; the handshake's load counts as its first touch. */
  attach(socket: Socket, sessionId: string, intervalSeconds: number): void {
    this.#toucher.touched(sessionId, intervalSeconds);
    socket.once('disconnect', () => {
      if (this.registry.socketsOf(sessionId).size === 0) this.#toucher.forget(sessionId);
    });
    socket.use((_event, next) => this.preHandle(socket, sessionId, next));
  }

  /** Gives the handlers that ask for the session (and only those) a session context per message. */
  bindHandlers(socket: Socket, handlers: MessageMappingProperties[]): MessageMappingProperties[] {
    const readers = sessionReadingMessages();
    return handlers.map((handler) =>
      !readers.has(handler.message)
        ? handler
        : {
            ...handler,
            callback: (data: unknown, ack: unknown) => {
              const messageSession = new MessageSession(socket, socket.data?.sessionId, this.repository, this.cache);
              const done = registerMessageSession(messageSession, data, ack);
              return runWithMessageSession(messageSession, () => this.handleInContext(messageSession, handler.callback(data, ack), done));
            },
          },
    );
  }

  /** Before an inbound event reaches its handler: keeps the session alive; refuses events of a session that has ended. */
  private preHandle(socket: Socket, sessionId: string, next: (error?: Error) => void): void {
    if (!this.#toucher.claimTouch(sessionId)) {
      next();
      return;
    }
    this.#toucher.touch(sessionId).then(
      (alive) => {
        if (alive) {
          next();
          return;
        }
        socket.emit('exception', { status: 'error', message: SESSION_ENDED_MESSAGE });
        this.closeEnded(socket, sessionId);
      },
      (error: unknown) => {
        // Redis away: let the conversation go on; the touch is retried with the next message.
        this.#toucher.forget(sessionId);
        this.#storeErrors.warn(`Session store error on a socket: ${error instanceof Error ? error.message : String(error)}`);
        next();
      },
    );
  }

  /**
   * Runs the handler's result in its message's context: interceptors make the handler lazy (it runs
   * when the result is subscribed), and `@Session()` and the session filter find the message's
   * session through that context. Once the handler is done, a socket whose session turned out
   * to have ended is closed, after the handler's exception has reached the client.
   */
  private async handleInContext(messageSession: MessageSession, result: unknown, done: () => void): Promise<unknown> {
    let value: unknown;
    try {
      value = await result;
    } catch (error) {
      done();
      throw error;
    }
    const closeIfEnded = () => {
      done();
      if (messageSession.sessionEnded) this.closeEnded(messageSession.socket, messageSession.sessionId!);
    };
    if (!isObservable(value)) {
      closeIfEnded();
      return value;
    }
    return new Observable<unknown>((subscriber) => {
      const subscription = runWithMessageSession(messageSession, () =>
        value.subscribe({
          next: (item) => subscriber.next(item),
          error: (error: unknown) => {
            subscriber.error(error);
            closeIfEnded();
          },
          complete: () => {
            subscriber.complete();
            closeIfEnded();
          },
        }),
      );
      return () => {
        subscription.unsubscribe();
        done();
      };
    });
  }

  /**
   * The session ended without this instance hearing of it (it found out by loading it): close the
   * socket as the registry would have. Sockets of the session on other instances find out on their
   * next touch, or from the event when there is one.
   */
  private closeEnded(socket: Socket, sessionId: string): void {
    this.#toucher.forget(sessionId);
    this.registry.closeSession(sessionId, 'expired', socket);
  }
}
