import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import { SessionHandshakeInterceptor } from './session-handshake.interceptor.js';
import { SessionIoAdapterCheck } from './session-io-adapter.check.js';
import { SessionMessageInterceptor } from './session-message.interceptor.js';
import { bindSocketMessageHandlers } from './socket-message-handlers.js';

interface Interceptors {
  handshake: SessionHandshakeInterceptor;
  messages: SessionMessageInterceptor;
}

/**
 * Socket.IO with the HTTP session: `app.useWebSocketAdapter(new SessionIoAdapter(app))` in main.ts.
 * Wiring only: on every namespace it runs the SessionHandshakeInterceptor (origin check, session
 * lookup, registration for closing) and on every socket the SessionMessageInterceptor (throttled
 * touch, `@Session()` in handlers); the session filter stores what handlers change, and the
 * WebSocketRegistryListener closes sockets when their session ends. Installed once per namespace
 * and socket, however many gateways share them. Extend it (e.g. to add `@socket.io/redis-adapter`)
 * as you would IoAdapter.
 */
export class SessionIoAdapter extends IoAdapter {
  readonly #installedServers = new WeakSet<Server>();
  readonly #installedNamespaces = new WeakSet<Namespace>();
  #interceptors: Interceptors | undefined;

  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override create(port: number, options?: ServerOptions & { namespace?: string; server?: Server }): Server {
    const created = super.create(port, options) as Server | Namespace;
    const root = 'server' in created && !('engine' in created) ? (created as Namespace).server : (created as Server);
    this.installOnServer(root);
    return created as Server;
  }

  /** As IoAdapter's, without its RxJS pipeline per socket and handler (see bindSocketMessageHandlers). */
  override bindMessageHandlers(socket: Socket, handlers: MessageMappingProperties[], transform: (data: any) => Observable<any>): void {
    const bound = this.interceptors().messages.bindHandlers(socket, handlers);
    bindSocketMessageHandlers(socket, bound, transform, (payload) => this.mapPayload(payload), this.logger);
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
    const { handshake } = this.interceptors();
    namespace.use((socket, next) => {
      handshake.beforeHandshake(socket).then(
        () => next(),
        (error: Error) => next(error),
      );
    });
    namespace.on('connection', (socket: Socket) => handshake.afterHandshake(socket));
  }

  private interceptors(): Interceptors {
    if (this.#interceptors) return this.#interceptors;
    let check: SessionIoAdapterCheck;
    try {
      check = this.app.get(SessionIoAdapterCheck, { strict: false });
    } catch {
      throw new Error('SessionIoAdapter needs EnableRedisHttpSession.forRoot() imported in the application module');
    }
    check.adapterInstalled();
    this.#interceptors = {
      handshake: this.app.get(SessionHandshakeInterceptor, { strict: false }),
      messages: this.app.get(SessionMessageInterceptor, { strict: false }),
    };
    return this.#interceptors;
  }
}
