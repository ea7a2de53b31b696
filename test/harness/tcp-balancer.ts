import { createServer, Socket, type AddressInfo } from 'node:net';

/**
 * A TCP load balancer on a loopback port, as a deployment puts in front of its instances: each new
 * connection goes to the next backend in turn (round-robin), and to the one after it when that
 * backend refuses the connection (a crashed instance), so clients reach whichever is alive. No
 * stickiness, no health checks: a connection is piped to one backend for its whole life.
 */
export interface TcpBalancer {
  readonly port: number;
  readonly url: string;
  /** Per backend (in the order given): connections it accepted, and connections it refused. */
  readonly accepted: number[];
  readonly refused: number[];
  close(): Promise<void>;
}

export async function startTcpBalancer(backends: { host?: string; port: number }[]): Promise<TcpBalancer> {
  const accepted = backends.map(() => 0);
  const refused = backends.map(() => 0);
  const open = new Set<Socket>();
  let next = 0;

  /** Connects to the backends from `first` on, in turn; undefined when none accepts. */
  const connectFrom = (first: number, tried = 0): Promise<Socket | undefined> => {
    if (tried === backends.length) return Promise.resolve(undefined);
    const index = (first + tried) % backends.length;
    const { host = '127.0.0.1', port } = backends[index];
    return new Promise((resolve) => {
      const upstream = new Socket();
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        accepted[index]++;
        resolve(upstream);
      });
      upstream.once('error', () => {
        upstream.destroy();
        refused[index]++;
        resolve(connectFrom(first, tried + 1));
      });
      upstream.connect(port, host);
    });
  };

  const server = createServer({ pauseOnConnect: true }, (client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    void connectFrom(next++ % backends.length).then((upstream) => {
      if (!upstream || client.destroyed) {
        upstream?.destroy();
        client.destroy();
        return;
      }
      open.add(upstream);
      upstream.once('close', () => open.delete(upstream));
      // Either side ending ends the other: a crashed backend drops its clients, as a real balancer does.
      upstream.on('error', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    accepted,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
