// Where one route's CPU goes, per request, in servers of the HTTP bench side by side: each server
// (bench/servers/http-server.ts) runs under node --cpu-prof; after a warm-up, a fixed number of
// requests is sent and only the samples taken while they ran are kept. Prints, per server, the
// server's CPU per request (from /proc) and self time per request by owner (the library, each npm
// package, Node's parts, V8's garbage collector), the difference against the first server, and the
// library's own top frames. Fixed counts, not seconds: what a request costs, not how fast the
// machine was. Loopback only; one Redis the bench starts and stops.
// Usage: npm run bench -- route-profile [--platform express] [--route write] [--variants floor-interceptor,ours]
//        [--requests 30000] [--warmup 10000] [--connections 20] [--interval 200] [--top 12]
//        [--owners nestjs-redis-session,node:internal] [--measure cpu|allocations]
// --interval: the sampling interval in µs (V8's default is 1000). --owners: whose top frames to list.
// --measure allocations: bytes allocated per request instead of CPU, by the same owners (V8's
// sampling heap profiler, collected objects included: bench/lib/allocation-sampler.js).
import autocannon from 'autocannon';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../test/harness/redis-server.js';
import { allocationsByFrame } from './lib/allocation-profiles.js';
import { selfTimeByFrame } from './lib/cpu-profiles.js';
import { BARE_ROUTE, SESSION_ROUTES, usesSessionCookie } from './lib/http-routes.js';
import { cpuMicros, flags, printTable, sessionCookie, startNodeServer } from './lib/processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, '../dist/bench/servers/http-server.js');
const SAMPLER = join(here, 'lib/allocation-sampler.js');
/** --measure allocations: one sample per this many bytes allocated, on average; fine enough for a request of a few KB. */
const ALLOCATION_SAMPLING_BYTES = 256;
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
  measure: 'cpu',
});
const ALLOCATIONS = options.measure === 'allocations';
const ROUTE = [BARE_ROUTE, ...SESSION_ROUTES].find((route) => route.name === options.route);
/** Variants whose routes need a session cookie (the login route makes its own sessions). */
const NEEDS_SESSION = (variant) => usesSessionCookie(variant) && !ROUTE.fresh;

/** The bare servers have no session routes: they serve the bare one. */
const routeOf = (variant) => (variant.startsWith('bare') ? BARE_ROUTE : ROUTE);

function load(url, method, headers, amount) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method, headers, connections: options.connections, amount, timeout: 30 }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** What a frame took: µs of CPU, or bytes allocated. */
const amountOf = (frame) => (ALLOCATIONS ? frame.bytes : frame.micros);
const UNIT = ALLOCATIONS ? 'bytes allocated' : 'µs';

/** Where the allocation sampler writes its profile. */
const allocationProfileIn = (dir) => join(dir, 'allocations.heapprofile');

/** The server, started under the CPU profiler or with the allocation sampler preloaded. */
function startProfiled(dir, args) {
  if (!ALLOCATIONS) return startNodeServer('--cpu-prof', [`--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${options.interval}`, SERVER, ...args]);
  return startNodeServer('--import', [SAMPLER, SERVER, ...args], {
    env: { ALLOCATION_PROFILE: allocationProfileIn(dir), ALLOCATION_SAMPLING_BYTES: String(ALLOCATION_SAMPLING_BYTES) },
  });
}

async function profile(redisUrl, variant) {
  const dir = mkdtempSync(join(tmpdir(), 'route-profile-'));
  const port = await freePort();
  const server = await startProfiled(dir, [options.platform, variant, String(port), redisUrl]);
  try {
    const base = `http://127.0.0.1:${port}`;
    const headers = NEEDS_SESSION(variant) ? { cookie: await sessionCookie(base) } : {};
    const { path, method } = routeOf(variant);
    const url = base + path;
    await load(url, method, headers, options.warmup);
    if (ALLOCATIONS) process.kill(server.pid, 'SIGUSR2'); // start sampling
    const [from, cpuBefore] = [nowMicros(), cpuMicros(server.pid)];
    const result = await load(url, method, headers, options.requests);
    const [to, cpuAfter] = [nowMicros(), cpuMicros(server.pid)];
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${variant} ${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    const requests = result.requests.total;
    let frames;
    if (ALLOCATIONS) {
      const file = allocationProfileIn(dir);
      process.kill(server.pid, 'SIGUSR2'); // stop, and write the profile
      for (let waited = 0; !existsSync(file); waited += 50) {
        if (waited > 30_000) throw new Error(`${variant}: no allocation profile after 30 s`);
        await sleep(50);
      }
      ({ frames } = allocationsByFrame(file));
    } else {
      await server.stop(); // the profile is written on exit
      ({ frames } = selfTimeByFrame(dir, { from, to }));
    }
    const byOwner = new Map();
    for (const frame of frames.values()) byOwner.set(frame.owner, (byOwner.get(frame.owner) ?? 0) + amountOf(frame) / requests);
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
  const busy = (run) => [...run.byOwner].reduce((sum, [owner, amount]) => (owner === '(idle)' ? sum : sum + amount), 0);
  owners.sort((a, b) => Math.max(...runs.map((run) => run.byOwner.get(b) ?? 0)) - Math.max(...runs.map((run) => run.byOwner.get(a) ?? 0)));
  const cell = (amount) => (amount ?? 0).toFixed(ALLOCATIONS ? 0 : 1);
  const rows = [
    // Under the allocation sampler the server's CPU is mostly the sampler's own: not shown.
    ...(ALLOCATIONS
      ? []
      : [['server CPU (/proc)', ...runs.map((run) => cell(run.cpuPerRequest)), ...runs.slice(1).map((run) => cell(run.cpuPerRequest - first.cpuPerRequest))]]),
    [
      ALLOCATIONS ? 'allocated, in all' : 'sampled, not idle',
      ...runs.map((run) => cell(busy(run))),
      ...runs.slice(1).map((run) => cell(busy(run) - busy(first))),
    ],
    ...owners
      .filter((owner) => runs.some((run) => (run.byOwner.get(owner) ?? 0) >= (ALLOCATIONS ? 50 : 0.5)))
      .map((owner) => [
        owner,
        ...runs.map((run) => cell(run.byOwner.get(owner))),
        ...runs.slice(1).map((run) => cell((run.byOwner.get(owner) ?? 0) - (first.byOwner.get(owner) ?? 0))),
      ]),
  ];
  console.log(
    `\n${options.platform} ${ROUTE.method} ${ROUTE.path}: ${UNIT} per request (${options.requests} requests after ${options.warmup} of warm-up, ${options.connections} connections, ${ALLOCATIONS ? `allocations sampled every ${ALLOCATION_SAMPLING_BYTES} bytes` : `sampled every ${options.interval} µs`}; bare servers on ${BARE_ROUTE.path})`,
  );
  printTable(['owner', ...runs.map((run) => run.variant), ...runs.slice(1).map((run) => `${run.variant} - ${first.variant}`)], rows);
  for (const owner of options.owners.split(',')) {
    for (const run of runs) {
      const owned = [...run.frames].filter(([, frame]) => frame.owner === owner).sort((a, b) => amountOf(b[1]) - amountOf(a[1]));
      if (owned.length === 0) continue;
      console.log(`\n${run.variant}: top frames of ${owner}, ${UNIT} per request`);
      for (const [key, frame] of owned.slice(0, options.top))
        console.log(`${(amountOf(frame) / run.requests).toFixed(ALLOCATIONS ? 0 : 2).padStart(7)}  ${key}`);
    }
  }
  return runs.map(({ variant, requests, cpuPerRequest, byOwner }) => ({ variant, requests, cpuPerRequest, byOwner: Object.fromEntries(byOwner) }));
}

if (import.meta.url === `file://${process.argv[1]}`) await runRouteProfile();
