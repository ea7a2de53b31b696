// Where one route's CPU goes, per request, in servers of the HTTP bench side by side: each server
// (bench/servers/http-server.ts) runs under node --cpu-prof; after a warm-up, a fixed number of
// requests is sent and only the samples taken while they ran are kept. Prints, per server, the
// server's CPU per request (from /proc) and self time per request by owner (the library, each npm
// package, Node's parts, V8's garbage collector), the difference against the first server, and the
// library's own top frames. Fixed counts, not seconds: what a request costs, not how fast the
// machine was. Loopback only; one Redis the bench starts and stops.
// Usage: npm run bench -- route-profile [--platform express] [--route write] [--variants floor-interceptor,ours]
//        [--requests 30000] [--warmup 10000] [--connections 20] [--interval 200] [--top 12]
//        [--owners nestjs-redis-session,node:internal]
// --interval: the sampling interval in µs (V8's default is 1000). --owners: whose top frames to list.
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../test/harness/redis-server.js';
import { selfTimeByFrame } from './lib/cpu-profiles.js';
import { BARE_ROUTE, SESSION_ROUTES, usesSessionCookie } from './lib/http-routes.js';
import { cpuMicros, flags, printTable, sessionCookie, startNodeServer } from './lib/processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, '../dist/bench/servers/http-server.js');
const options = flags({
  platform: 'express',
  route: 'write',
  variants: 'floor-interceptor,ours',
  requests: 30_000,
  warmup: 10_000,
  connections: 20,
  interval: 200,
  top: 12,
  owners: 'nestjs-redis-session',
});
const ROUTE = [BARE_ROUTE, ...SESSION_ROUTES].find((route) => route.name === options.route);
/** Variants whose routes need a session cookie (the login route makes its own sessions). */
const NEEDS_SESSION = (variant) => usesSessionCookie(variant) && !ROUTE.fresh;

function load(url, headers, amount) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: ROUTE.method, headers, connections: options.connections, amount, timeout: 30 }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

async function profile(redisUrl, variant) {
  const dir = mkdtempSync(join(tmpdir(), 'route-profile-'));
  const port = await freePort();
  const server = await startNodeServer('--cpu-prof', [
    `--cpu-prof-dir=${dir}`,
    `--cpu-prof-interval=${options.interval}`,
    SERVER,
    options.platform,
    variant,
    String(port),
    redisUrl,
  ]);
  try {
    const base = `http://127.0.0.1:${port}`;
    const headers = NEEDS_SESSION(variant) ? { cookie: await sessionCookie(base) } : {};
    const url = base + ROUTE.path;
    await load(url, headers, options.warmup);
    const [from, cpuBefore] = [nowMicros(), cpuMicros(server.pid)];
    const result = await load(url, headers, options.requests);
    const [to, cpuAfter] = [nowMicros(), cpuMicros(server.pid)];
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${variant} ${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    await server.stop(); // the profile is written on exit
    const requests = result.requests.total;
    const { frames } = selfTimeByFrame(dir, { from, to });
    const byOwner = new Map();
    for (const { micros, owner } of frames.values()) byOwner.set(owner, (byOwner.get(owner) ?? 0) + micros / requests);
    return { variant, requests, cpuPerRequest: (cpuAfter - cpuBefore) / requests, byOwner, frames };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runRouteProfile() {
  if (!ROUTE) throw new Error(`--route ${options.route}: one of bare, ${SESSION_ROUTES.map((route) => route.name).join(', ')}`);
  const redis = await startRedisServer();
  const runs = [];
  try {
    for (const variant of options.variants.split(',')) runs.push(await profile(redis.url, variant));
  } finally {
    await redis.stop();
  }
  const [first] = runs;
  const owners = [...new Set(runs.flatMap((run) => [...run.byOwner.keys()]))].filter((owner) => owner !== '(idle)');
  const busy = (run) => [...run.byOwner].reduce((sum, [owner, micros]) => (owner === '(idle)' ? sum : sum + micros), 0);
  owners.sort((a, b) => Math.max(...runs.map((run) => run.byOwner.get(b) ?? 0)) - Math.max(...runs.map((run) => run.byOwner.get(a) ?? 0)));
  const cell = (micros) => (micros ?? 0).toFixed(1);
  const rows = [
    ['server CPU (/proc)', ...runs.map((run) => cell(run.cpuPerRequest)), ...runs.slice(1).map((run) => cell(run.cpuPerRequest - first.cpuPerRequest))],
    ['sampled, not idle', ...runs.map((run) => cell(busy(run))), ...runs.slice(1).map((run) => cell(busy(run) - busy(first)))],
    ...owners
      .filter((owner) => runs.some((run) => (run.byOwner.get(owner) ?? 0) >= 0.5))
      .map((owner) => [
        owner,
        ...runs.map((run) => cell(run.byOwner.get(owner))),
        ...runs.slice(1).map((run) => cell((run.byOwner.get(owner) ?? 0) - (first.byOwner.get(owner) ?? 0))),
      ]),
  ];
  console.log(
    `\n${options.platform} ${ROUTE.method} ${ROUTE.path}: µs per request (${options.requests} requests after ${options.warmup} of warm-up, ${options.connections} connections, sampled every ${options.interval} µs)`,
  );
  printTable(['owner', ...runs.map((run) => run.variant), ...runs.slice(1).map((run) => `${run.variant} - ${first.variant}`)], rows);
  for (const owner of options.owners.split(',')) {
    for (const run of runs) {
      const owned = [...run.frames].filter(([, frame]) => frame.owner === owner).sort((a, b) => b[1].micros - a[1].micros);
      if (owned.length === 0) continue;
      console.log(`\n${run.variant}: top frames of ${owner}, µs per request`);
      for (const [key, { micros }] of owned.slice(0, options.top)) console.log(`${(micros / run.requests).toFixed(2).padStart(7)}  ${key}`);
    }
  }
  return runs.map(({ variant, requests, cpuPerRequest, byOwner }) => ({ variant, requests, cpuPerRequest, byOwner: Object.fromEntries(byOwner) }));
}

if (import.meta.url === `file://${process.argv[1]}`) await runRouteProfile();
