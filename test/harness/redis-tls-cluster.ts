import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startRedisServer, type RedisServer } from './redis-server.js';
import { tlsServerArgs, type TlsCertificates } from './tls-certificates.js';

const run = promisify(execFile);

export interface RedisTlsCluster {
  /** Each master: its plain port (for the test's own look, with redis-cli) and its TLS port (for the app). */
  readonly nodes: { host: string; port: number; tlsPort: number }[];
  readonly servers: RedisServer[];
  /** redis-cli on a node's plain port. */
  cli(port: number, ...command: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of masters whose clients, cluster bus and replication all use TLS
 * (`--tls-cluster yes --tls-replication yes`). Each node keeps a plain port too, on loopback, for
 * the harness' start-up PING and the test's own look; a TLS client is told the TLS ports (Redis
 * 7 answers CLUSTER SLOTS with the ports of the client's own kind of connection).
 */
export async function startRedisTlsCluster(certificates: TlsCertificates, { masters = 3, args = [] as string[] } = {}): Promise<RedisTlsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'session-tls-cluster-'));
  const servers: RedisServer[] = [];
  const tlsPorts = new Map<number, number>();
  const cli = async (port: number, ...command: string[]) => (await run('redis-cli', ['-p', String(port), ...command], { timeout: 5000 })).stdout.trim();
  try {
    for (let i = 0; i < masters; i++) {
      let tlsPort = 0;
      const server = await startRedisServer({
        args: async (port) => {
          tlsPort = await freePort();
          while (tlsPort === port) tlsPort = await freePort();
          let busPort = await freePort();
          while (busPort === port || busPort === tlsPort) busPort = await freePort();
          return [
            ...tlsServerArgs(certificates, tlsPort),
            '--tls-cluster', 'yes', '--tls-replication', 'yes',
            '--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000',
            '--dir', dir, ...args,
          ];
        },
      });
      servers.push(server);
      tlsPorts.set(server.port, tlsPort);
    }
    const addresses = servers.map((server) => `127.0.0.1:${tlsPorts.get(server.port)}`);
    await run('redis-cli', ['--tls', '--cacert', certificates.caFile, '--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    const deadline = Date.now() + 20_000;
    for (const server of servers) {
      for (;;) {
        const info = await cli(server.port, 'cluster', 'info');
        if (info.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${server.port} did not reach cluster_state:ok:\n${info}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    nodes: servers.map((server) => ({ host: '127.0.0.1', port: server.port, tlsPort: tlsPorts.get(server.port)! })),
    servers,
    cli,
    async stop() {
      await Promise.all(servers.map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
