// Counting servers' executed instructions with valgrind's callgrind, shared by the instruction
// benches (bench/http-instructions.js, bench/ws-instructions.js). Instructions do not depend on
// what else the machine runs, as seconds do on these shared 2-core machines.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedisServer } from '../../test/harness/redis-server.js';
import { startNodeServer } from './processes.js';

function requireValgrind() {
  try {
    execFileSync('sh', ['-c', 'command -v valgrind && command -v callgrind_control'], { stdio: 'ignore' });
  } catch {
    throw new Error('This benchmark needs valgrind (Debian: apt-get install valgrind)');
  }
}

/**
 * Starts a Node server script under callgrind (about 50x slower). Its library's command deadline
 * is raised and its expiry sweeper slowed to once an hour: under valgrind a reply can take longer
 * than the 2-s deadline, and the sweeper's ticks are per instance, not per request or message.
 */
async function startUnderCallgrind(script, args) {
  const outDir = mkdtempSync(join(tmpdir(), 'callgrind-'));
  // --smc-check: V8 writes the code it runs; the default check misses code on the heap.
  const server = await startNodeServer(script, args, {
    command: ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${join(outDir, 'cg.out')}`],
    timeoutMs: 300_000,
    env: { COMMAND_TIMEOUT_MS: '60000', SWEEP_MS: '3600000' },
  });
  return {
    pid: server.pid,
    /** Zeroes the counters, runs `work` (which resolves to how many units it did), dumps them: instructions per unit. */
    async count(work) {
      const before = new Set(readdirSync(outDir));
      execFileSync('callgrind_control', ['-z', String(server.pid)], { stdio: 'ignore' });
      const units = await work();
      execFileSync('callgrind_control', ['-d', String(server.pid)], { stdio: 'ignore' });
      const dump = readdirSync(outDir).find((name) => !before.has(name));
      if (!dump) throw new Error('callgrind wrote no dump');
      const totals = /^totals: (\d+)/m.exec(readFileSync(join(outDir, dump), 'utf8'));
      if (!totals) throw new Error(`no totals in ${dump}`);
      return Number(totals[1]) / units;
    },
    async stop() {
      await server.stop();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

/**
 * For each variant, in turn: a server of `script` under callgrind on a free loopback port, with one
 * Redis shared by all, handed to `measure(variant, server, baseUrl)` and stopped afterwards, as is
 * the Redis at the end, whatever fails. `argsFor(variant, port, redisUrl)`: the script's arguments.
 */
export async function eachUnderCallgrind(script, variants, argsFor, measure) {
  requireValgrind();
  const redis = await startRedisServer();
  try {
    for (const variant of variants) {
      const port = await freePort();
      const server = await startUnderCallgrind(script, argsFor(variant, port, redis.url));
      try {
        await measure(variant, server, `http://127.0.0.1:${port}`);
      } finally {
        await server.stop();
      }
    }
  } finally {
    await redis.stop();
  }
}
