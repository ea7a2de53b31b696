// A real Redis Cluster for tests: N masters (no replicas) on free loopback ports, created with
// `redis-cli --cluster create`, its state files in a temporary folder removed on stop. Stopping
// it fails if any node refused a command with CROSSSLOT meanwhile.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startRedisServer } from './redis-server.js';

const run = promisify(execFile);

/** Starts the cluster and waits until every node reports cluster_state:ok. */
export async function startRedisCluster({ masters = 3, args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'session-cluster-'));
  const servers = [];
  try {
    for (let i = 0; i < masters; i++) servers.push(await startNode(dir, args));
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    const deadline = Date.now() + 20_000;
    for (const server of servers) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(server.port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${server.port} did not reach cluster_state:ok:\n${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    nodes: servers.map((server) => ({ host: '127.0.0.1', port: server.port })),
    servers,
    async stop() {
      const crossSlot = await crossSlotErrors(servers);
      await Promise.all(servers.map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
      if (crossSlot > 0) {
        throw new Error(`The cluster answered ${crossSlot} command(s) with CROSSSLOT: a command or script was sent keys of several slots`);
      }
    },
  };
}

/**
 * One node on a free port with its bus on another free port: Redis' default bus port (port +
 * 10000) lies in the ephemeral range, where another worker's outgoing connection can hold it.
 */
function startNode(dir, args) {
  return startRedisServer({
    args: async (port) => {
      let busPort = await freePort();
      while (busPort === port) busPort = await freePort();
      return ['--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--dir', dir, ...args];
    },
  });
}

/**
 * How many commands the nodes refused with CROSSSLOT (Redis counts errors by kind). A client
 * may see such an error only as a failed request or a logged warning, so every cluster the tests
 * start checks, when it stops, that there was none.
 */
async function crossSlotErrors(servers) {
  let total = 0;
  for (const server of servers) {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(server.port), 'info', 'errorstats'], { timeout: 2000 });
      total += Number(/^errorstat_CROSSSLOT:count=(\d+)/m.exec(stdout)?.[1] ?? 0);
    } catch {
      // A node that a test stopped has nothing to tell.
    }
  }
  return total;
}
