// A real Sentinel deployment for tests: a primary and its replica (or replicas; all with keyspace
// notifications on), watched by three sentinels, all on free loopback ports. Each sentinel has its
// own config file (Sentinel rewrites it) in a temporary folder removed on stop.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureRedisInstalled, freePort, startRedisServer } from './redis-server.js';

const run = promisify(execFile);
const NAME = 'mymaster';
const NOTIFICATIONS = ['--notify-keyspace-events', 'Egx'];

/** Sentinels still running, killed if the test process exits without stopping them. */
const running = new Set();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Installs Debian's redis-sentinel when missing (root + apt), as ensureRedisInstalled does for the server. */
function ensureSentinelInstalled() {
  ensureRedisInstalled();
  if (hasCommand('redis-sentinel')) return;
  if (process.getuid?.() === 0 && hasCommand('apt-get')) {
    console.log("redis-sentinel is missing: installing Debian's redis-sentinel package...");
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'redis-sentinel'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return;
  }
  throw new Error('The Sentinel tests need redis-sentinel (Redis 7). Install it, e.g. `sudo apt-get install redis-sentinel`, then run the tests again.');
}

function hasCommand(name) {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts a primary and its replicas (in sync), then three sentinels that know them all and each other. */
export async function startRedisSentinel({ replicas: replicaCount = 1, downAfterMs = 1000, failoverTimeoutMs = 5000, args = [] } = {}) {
  ensureSentinelInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'session-sentinel-'));
  const sentinels = [];
  let primary;
  const replicas = [];
  const stopAll = async () => {
    await Promise.all(sentinels.map((sentinel) => sentinel.stop()));
    await Promise.all([primary?.stop(), ...replicas.map((replica) => replica.stop())]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // A full resync writes an RDB file even without persistence: in the folder, not the cwd.
    const server = [...NOTIFICATIONS, '--dir', dir];
    primary = await startRedisServer({ args: [...server, ...args] });
    for (let i = 0; i < replicaCount; i++) {
      const replica = await startRedisServer({ args: [...server, '--replicaof', '127.0.0.1', String(primary.port), ...args] });
      replicas.push(replica);
      await until(async () => /master_link_status:up/.test(await cli(replica.port, 'info', 'replication')), 10_000, 'the replica to sync');
    }
    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(dir, primary.port, downAfterMs, failoverTimeoutMs));
    for (const sentinel of sentinels) {
      await until(
        async () => {
          const master = fields(await cli(sentinel.port, 'sentinel', 'master', NAME));
          return master['num-slaves'] === String(replicaCount) && master['num-other-sentinels'] === '2';
        },
        20_000,
        `sentinel ${sentinel.port} to know the replica and the other sentinels`,
      );
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  const masterPorts = async () =>
    Promise.all(sentinels.map(async (sentinel) => Number((await cli(sentinel.port, 'sentinel', 'get-master-addr-by-name', NAME)).split('\n')[1])));
  return {
    name: NAME,
    sentinels: sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
    primary,
    replica: replicas[0],
    replicas,
    killPrimary: () => void process.kill(primary.pid, 'SIGKILL'),
    /**
     * Resolves with the new master's port once every sentinel reports one and the same former
     * replica as master, and has for `stableMs`: on a loaded machine a promoted replica can miss
     * the sentinels' down-after window and be failed over in turn.
     */
    async waitForFailover(timeoutMs = 30_000, stableMs = 0) {
      let promoted;
      let since = 0;
      await until(
        async () => {
          const ports = await masterPorts();
          const agreed = ports.every((port) => port === ports[0]) && replicas.some((replica) => replica.port === ports[0]);
          if (!agreed || ports[0] !== promoted) [promoted, since] = [agreed ? ports[0] : undefined, Date.now()];
          return agreed && Date.now() - since >= stableMs;
        },
        timeoutMs,
        'the sentinels to promote a replica',
      );
      return promoted;
    },
    masterPorts,
    stop: stopAll,
  };
}

async function startSentinel(dir, primaryPort, downAfterMs, failoverTimeoutMs) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${NAME} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${NAME} ${downAfterMs}`,
        `sentinel failover-timeout ${NAME} ${failoverTimeoutMs}`,
        `sentinel parallel-syncs ${NAME} 1`,
        '',
      ].join('\n'),
    );
    try {
      return await launchSentinel(port, conf);
    } catch (error) {
      // The port may be taken between freePort() and the bind (another worker's connection).
      if (attempt >= 5 || !/Address already in use/.test(String(error?.message))) throw error;
    }
  }
}

async function launchSentinel(port, conf) {
  const child = spawn('redis-sentinel', [conf, '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (chunk) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.once('exit', () => running.delete(child));
  try {
    await until(
      async () => {
        if (child.exitCode !== null) throw new Error('exited');
        return (await cli(port, 'ping')) === 'PONG';
      },
      10_000,
      `sentinel ${port} to answer`,
    );
  } catch {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`redis-sentinel on port ${port} did not start: ${output.trim() || 'no output'}`);
  }
  return {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function cli(port, ...command) {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...command], { timeout: 2000 });
  return stdout.trim();
}

/** redis-cli's reply to SENTINEL MASTER (one line per element: name, value, name, value...) as an object. */
function fields(text) {
  const lines = text.split('\n');
  const result = {};
  for (let i = 0; i + 1 < lines.length; i += 2) result[lines[i]] = lines[i + 1];
  return result;
}

/** Polls `check` until it is true (errors count as not yet), bounded by `timeoutMs`. */
async function until(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
