import { io, type Socket } from 'socket.io-client';

/**
 * A socket.io-client socket that records every event from the moment it connects, so that a test
 * can wait for events the server sends right at connection (history, presence) without a race.
 */
export class RecordedSocket {
  readonly received: { event: string; payload: unknown }[] = [];
  readonly #waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.onAny((event: string, payload: unknown) => {
      this.received.push({ event, payload });
      for (const wake of this.#waiters) wake();
    });
  }

  static async connect(url: string, cookie: string): Promise<RecordedSocket> {
    const socket = io(url, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false, forceNew: true, autoConnect: false });
    const recorded = new RecordedSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
      socket.connect();
    });
    return recorded;
  }

  /** The first payload of `event` (received already or later) that satisfies `accept`. */
  waitFor<T>(event: string, accept: (payload: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.received.find((entry) => entry.event === event && accept(entry.payload as T));
        if (!found) return;
        done();
        resolve(found.payload as T);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching "${event}" within ${timeoutMs} ms; got ${JSON.stringify(this.received.filter((e) => e.event === event))}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  close(): void {
    this.socket.close();
  }
}
