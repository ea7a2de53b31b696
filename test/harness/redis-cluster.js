// A real Redis Cluster for tests: N masters (each with `replicas` replicas, default none) on free
// loopback ports, created with `redis-cli --cluster create`, its state files in a temporary folder
// removed on stop. Stopping it fails if any node refused a command with CROSSSLOT meanwhile.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startRedisServer } from './redis-server.js';

const run = promisify(execFile);

/**
 * Starts the cluster and waits until every node reports cluster_state:ok (and, with replicas,
 * until every replica is in sync with its master).
 */
export async function startRedisCluster({ masters = 3, replicas = 0, args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'session-cluster-'));
  const servers = [];
  // With replicas, a master is failed over once it has been unreachable for the node timeout: short, so that tests see it soon.
  const nodeTimeoutMs = replicas > 0 ? 1000 : 2000;
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) servers.push(await startNode(dir, nodeTimeoutMs, args));
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });
    const deadline = Date.now() + 20_000;
    for (const server of servers) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(server.port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${server.port} did not reach cluster_state:ok:\n${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    if (replicas > 0) await replicasInSync(servers, masters * replicas, deadline);
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const killed = new Set();
  /** redis-cli on a node that is still running: the cluster's view, whichever node was killed. */
  const ask = async (...command) => {
    const alive = servers.find((server) => !killed.has(server.port));
    const { stdout } = await run('redis-cli', ['-p', String(alive.port), ...command], { timeout: 5000 });
    return stdout.trim();
  };
  const slotOf = async (key) => Number(await ask('cluster', 'keyslot', key));
  /** CLUSTER SLOTS: ranges `[from, to, [host, port, id], ...replicas]`, the master first. */
  const slotRanges = async () => JSON.parse(await ask('--json', 'cluster', 'slots'));
  const masterOfSlot = async (slot) => {
    const range = (await slotRanges()).find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no master serves slot ${slot}`);
    return Number(range[2][1]);
  };
  return {
    nodes: servers.map((server) => ({ host: '127.0.0.1', port: server.port })),
    servers,
    slotOf,
    masterOfSlot,
    masterOf: async (key) => masterOfSlot(await slotOf(key)),
    masterPorts: async () => [...new Set((await slotRanges()).map((range) => Number(range[2][1])))].sort((x, y) => x - y),
    nodeId: async (port) => {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'myid'], { timeout: 5000 });
      return stdout.trim();
    },
    async killNode(port) {
      const server = servers.find((candidate) => candidate.port === port);
      if (!server) throw new Error(`no node of this cluster listens on ${port}`);
      const pid = server.pid;
      killed.add(port);
      process.kill(pid, 'SIGKILL');
      // Gone once Node has reaped it (a zombie still answers signal 0).
      for (let attempt = 0; attempt < 200 && isRunning(pid); attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
      if (isRunning(pid)) throw new Error(`node ${port} (pid ${pid}) still runs after SIGKILL`);
    },
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
function startNode(dir, nodeTimeoutMs, args) {
  return startRedisServer({
    args: async (port) => {
      let busPort = await freePort();
      while (busPort === port) busPort = await freePort();
      return ['--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(nodeTimeoutMs), '--dir', dir, ...args];
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

/** Until every replica has its link to its master up and every master sees its replicas online. */
async function replicasInSync(servers, expectedReplicas, deadline) {
  for (;;) {
    const infos = await Promise.all(
      servers.map(async (server) => (await run('redis-cli', ['-p', String(server.port), 'info', 'replication'])).stdout),
    );
    const synced = infos.filter((info) => /^role:slave/m.test(info) && /^master_link_status:up/m.test(info)).length;
    const online = infos.reduce((sum, info) => sum + (/^role:master/m.test(info) ? (info.match(/^slave\d+:.*state=online/gm) ?? []).length : 0), 0);
    if (synced === expectedReplicas && online === expectedReplicas) return;
    if (Date.now() > deadline) throw new Error(`replicas not in sync: ${synced} linked, ${online} online of ${expectedReplicas}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
