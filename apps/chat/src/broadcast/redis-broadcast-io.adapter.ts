import { Logger, type INestApplicationContext } from '@nestjs/common';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { SessionIoAdapter } from 'nestjs-redis-session';
import type { Server, ServerOptions } from 'socket.io';

/** Cross-instance answers (fetchSockets for the online list) give up after this long. */
const REQUESTS_TIMEOUT_MS = 3000;

/**
 * The library's SessionIoAdapter plus @socket.io/redis-adapter, so that a broadcast on one
 * instance reaches the sockets of all of them. The pub/sub connections are this adapter's own:
 * they are opened with the Socket.IO server and closed when Nest disposes of the adapter.
 */
export class RedisBroadcastIoAdapter extends SessionIoAdapter {
  readonly #logger = new Logger('ChatBroadcast');
  readonly #clients: Redis[] = [];
  #lastErrorLog = 0;

  constructor(
    app: INestApplicationContext,
    private readonly redisUrl: string,
    private readonly channelPrefix: string,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server: Server = super.createIOServer(port, options);
    const pub = this.client(new Redis(this.redisUrl));
    const sub = this.client(pub.duplicate());
    server.adapter(createAdapter(pub, sub, { key: this.channelPrefix, requestsTimeout: REQUESTS_TIMEOUT_MS }));
    return server;
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    const clients = this.#clients.splice(0);
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  }

  private client(redis: Redis): Redis {
    redis.on('error', (error: Error) => {
      // ioredis reconnects by itself; say so now and then rather than on every retry.
      if (Date.now() - this.#lastErrorLog < 60_000) return;
      this.#lastErrorLog = Date.now();
      this.#logger.warn(`Redis for cross-instance broadcast: ${error.message}`);
    });
    this.#clients.push(redis);
    return redis;
  }
}
