// What waitForReplicas costs: write throughput of an Express app with the module, on a primary
// with one replica (loopback), without the option and with waitForReplicas { replicas: 1, timeoutMs: 100 }.
// Usage: npm run bench:replica-wait -- [--rounds 5] [--duration 3] [--warmup 1] [--connections 50]
//   (or, after `npm run build:lib`: node bench/replica-wait.js [flags])
// Each server runs in its own process (this script, with --serve), started and stopped here; the
// variants alternate within each round (their order swapped every round), and every figure is the
// median of per-round paired ratios (with their range), as bench/http-throughput.js does on a noisy
// 2-core machine. Server CPU per request is read from /proc/<pid>/stat. Bounded: rounds x 2
// servers x (start + warmup + duration), under two minutes with the defaults.
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../test/harness/redis-server.js';
import { cpuMicros, flags, median, printTable, startNodeServer } from './lib/processes.js';

const VARIANTS = ['async', 'wait'];
const WAIT = { replicas: 1, timeoutMs: 100 };

if (process.argv[2] === '--serve') await serve(...process.argv.slice(3));
else await main();

/** The measured app: POST /login makes a session; POST /write sets an attribute (one save per request). */
async function serve(variant, port, redisUrl) {
  await import('reflect-metadata');
  const { Controller, HttpCode, Module, Post } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  const { EnableRedisHttpSession, Session } = await import('nestjs-redis-session');
  let n = 0;
  class WriteController {
    login(session) {
      session.set('user', 'bench');
      return { id: session.id };
    }
    write(session) {
      session.set('counter', ++n);
      return { n };
    }
  }
  for (const [method, path] of [
    ['login', 'login'],
    ['write', 'write'],
  ]) {
    Session()(WriteController.prototype, method, 0);
    Reflect.decorate([Post(path), HttpCode(200)], WriteController.prototype, method, Object.getOwnPropertyDescriptor(WriteController.prototype, method));
  }
  Reflect.decorate([Controller()], WriteController);
  class BenchModule {}
  const session = { redis: redisUrl, redisNamespace: 'bench:replica-wait', ...(variant === 'wait' ? { waitForReplicas: WAIT } : {}) };
  Reflect.decorate([Module({ imports: [EnableRedisHttpSession.forRoot(session)], controllers: [WriteController] })], BenchModule);
  const app = await NestFactory.create(BenchModule, new ExpressAdapter(), { logger: ['error', 'warn'] });
  await app.listen(Number(port), '127.0.0.1');
  process.once('SIGTERM', () => void app.close().finally(() => process.exit(0)));
  console.log('ready');
}

function load(url, cookie, duration, connections) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', headers: { cookie }, connections, duration }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function waitCalls(admin) {
  return Number(/^cmdstat_wait:calls=(\d+)/m.exec(await admin.info('commandstats'))?.[1] ?? 0);
}

async function measure(variant, redisUrl, admin, options) {
  const port = await freePort();
  const server = await startNodeServer(fileURLToPath(import.meta.url), ['--serve', variant, String(port), redisUrl]);
  const base = `http://127.0.0.1:${port}`;
  try {
    const response = await fetch(`${base}/login`, { method: 'POST' });
    const cookie = response.headers.getSetCookie()[0]?.split(';')[0];
    if (response.status !== 200 || !cookie) throw new Error(`login failed: HTTP ${response.status}`);
    await load(`${base}/write`, cookie, options.warmup, options.connections);
    const [cpuBefore, waitsBefore] = [cpuMicros(server.pid), await waitCalls(admin)];
    const result = await load(`${base}/write`, cookie, options.duration, options.connections);
    const [cpuAfter, waitsAfter] = [cpuMicros(server.pid), await waitCalls(admin)];
    const requests = result.requests.total;
    return {
      reqPerSec: result.requests.average,
      cpuMicrosPerRequest: (cpuAfter - cpuBefore) / requests,
      waitsPerRequest: (waitsAfter - waitsBefore) / requests,
      failed: result.non2xx + result.errors + result.timeouts,
      p99Ms: result.latency.p99,
    };
  } finally {
    await server.stop();
  }
}

async function main() {
  const options = flags({ rounds: 5, duration: 3, warmup: 1, connections: 50 });
  if (!(options.rounds >= 3)) throw new Error('--rounds must be at least 3 (medians)');
  // A full resync writes an RDB file even without persistence: in a folder of ours, not the cwd.
  const dir = mkdtempSync(join(tmpdir(), 'bench-replica-wait-'));
  const primary = await startRedisServer({ args: ['--dir', dir] });
  const replica = await startRedisServer({ args: ['--dir', dir, '--replicaof', '127.0.0.1', String(primary.port)] });
  const admin = new Redis(primary.port, { maxRetriesPerRequest: 1 });
  const started = Date.now();
  const samples = { async: [], wait: [] };
  try {
    const onReplica = new Redis(replica.port, { maxRetriesPerRequest: 1 });
    for (let attempt = 0; !/master_link_status:up/.test(await onReplica.info('replication')); attempt++) {
      if (attempt > 100) throw new Error('the replica did not sync within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    onReplica.disconnect();
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        samples[variant].push(await measure(variant, primary.url, admin, options));
        process.stderr.write(`  round ${round + 1}/${options.rounds} ${variant} done\n`);
      }
    }
  } finally {
    admin.disconnect();
    await Promise.all([primary.stop(), replica.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  const ratios = (field) => samples.wait.map((sample, round) => sample[field] / samples.async[round][field]);
  const describe = (values) => `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)})`;
  console.log(
    `\nSession writes (POST /write, one save each) on a primary with one replica, ${options.connections} connections, ` +
      `${options.rounds} rounds of ${options.duration} s, ${Math.round((Date.now() - started) / 1000)} s in all`,
  );
  printTable(
    ['variant', 'req/s', 'us CPU/req', 'p99 ms', 'WAIT/req', 'failed'],
    VARIANTS.map((variant) => {
      const of = (field) => median(samples[variant].map((sample) => sample[field]));
      return [
        variant === 'wait' ? `waitForReplicas ${JSON.stringify(WAIT)}` : 'without waitForReplicas',
        Math.round(of('reqPerSec')),
        of('cpuMicrosPerRequest').toFixed(0),
        of('p99Ms').toFixed(0),
        of('waitsPerRequest').toFixed(2),
        samples[variant].reduce((sum, sample) => sum + sample.failed, 0),
      ];
    }),
  );
  console.log(
    `\nwith / without, median of per-round ratios (range): req/s ${describe(ratios('reqPerSec'))}, CPU per request ${describe(ratios('cpuMicrosPerRequest'))}`,
  );
  console.log(
    `per round, req/s: without ${samples.async.map((s) => Math.round(s.reqPerSec)).join(', ')}; with ${samples.wait.map((s) => Math.round(s.reqPerSec)).join(', ')}`,
  );
}
