import type { Socket } from 'socket.io';
import type { HttpSession } from '../core/http-session.js';
import type { SessionRepository } from '../core/session-repository.js';

/**
 * The repository of each socket the handshake admitted, on the socket itself rather than in a
 * WeakMap: V8 shrinks a WeakMap's table only on delete(), not when the GC drops its entries, and an
 * entry cannot be deleted at disconnect (handleDisconnect may still look), so the table kept the
 * capacity of the most sockets ever open (256 KB after 10,000, bench/sockets-scale.js).
 */
const REPOSITORY = Symbol('nestjs-redis-session repository');
type SocketWithRepository = Socket & { [REPOSITORY]?: SessionRepository };

/** Called by the handshake for each socket it admits: its session can now be looked up with getSocketSession(). */
export function recordSocketRepository(socket: Socket, repository: SessionRepository): void {
  (socket as SocketWithRepository)[REPOSITORY] = repository;
}

/**
 * The live session of a socket, where `@Session()` cannot reach (Nest passes no parameters to
 * `handleConnection` and `handleDisconnect`): the session as it is now in the store, or undefined
 * when the socket came without one or it has ended. Looking does not keep it alive; changes made
 * here are stored by `session.save()`.
 *
 * ```ts
 * async handleConnection(socket: Socket) {
 *   const session = await getSocketSession<{ username: string }>(socket);
 *   this.server.emit('joined', session?.get('username'));
 * }
 * ```
 */
export function getSocketSession<T extends Record<string, any> = Record<string, any>>(socket: Socket): Promise<HttpSession<T> | undefined> {
  const repository = (socket as SocketWithRepository)[REPOSITORY];
  if (repository === undefined) {
    return Promise.reject(new Error('getSocketSession() needs the session adapter: app.useWebSocketAdapter(new SessionIoAdapter(app)) in main.ts'));
  }
  const sessionId: unknown = socket.data?.sessionId;
  if (typeof sessionId !== 'string') return Promise.resolve(undefined);
  return repository.findById<T>(sessionId, { touch: false }).then((session) => {
    session?.bindTo(repository);
    return session;
  });
}
