// HTTP throughput: bare Nest vs this library vs express-session + connect-redis, on loopback, with
// the floor (the same Redis round trips, plain commands sent straight from a handler) to show the
// library's own cost, and bare Nest with one no-op global interceptor (the price of the session
// filter's shape before it does anything), and the floor behind that interceptor (the most a filter of
// that shape could reach). Server CPU per request is read from /proc.
// Usage: npm run bench -- http [--rounds 3] [--duration 5] [--warmup 2] [--connections 50] [--platforms express,fastify]
// Each server runs in its own process; servers are alternated A B C D A B C D...; medians of the
// rounds; every figure is also a ratio to bare Nest measured in the same run (noisy 2-core machines).
import autocannon from 'autocannon';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../test/harness/redis-server.js';
import { writeRatioChart } from './lib/chart.js';
import { flags, median, printTable, startNodeServer } from './lib/processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, '../dist/bench/servers/http-server.js');
const options = flags({ rounds: 3, duration: 5, warmup: 2, connections: 50, platforms: 'express,fastify' });

const VARIANTS = {
  express: ['bare', 'bare-interceptor', 'floor', 'floor-interceptor', 'ours', 'ours-req-session', 'es-default', 'es-pipelined'],
  fastify: ['bare', 'bare-interceptor', 'floor', 'floor-interceptor', 'ours'],
};
const ROUTES = [
  { name: 'read', method: 'GET', path: '/read' },
  { name: 'write', method: 'POST', path: '/write' },
  { name: 'login', method: 'POST', path: '/login', fresh: true },
];

function load(url, { method = 'GET', headers = {}, duration }) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method, headers, connections: options.connections, duration }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Logs in once and returns the session cookie pair ("SESSION=..." or "connect.sid=..."). */
async function sessionCookie(base) {
  const response = await fetch(`${base}/login`, { method: 'POST' });
  const cookie = response.headers.getSetCookie()[0];
  if (!cookie) throw new Error(`no session cookie from ${base}/login`);
  return cookie.split(';')[0];
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (Linux: USER_HZ, 100 everywhere in practice). */
const CLOCK_TICKS = 100;

/** The CPU time (user + system) a process has used so far, in microseconds. */
function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
}

/** Requests per second over the measured phase, and the server's CPU microseconds per request in it. */
async function measure(base, route, cookie, pid) {
  const url = base + route.path;
  const headers = route.fresh ? {} : { cookie };
  await load(url, { method: route.method, headers, duration: options.warmup });
  const cpuBefore = cpuMicros(pid);
  const result = await load(url, { method: route.method, headers, duration: options.duration });
  const cpu = (cpuMicros(pid) - cpuBefore) / result.requests.total;
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { reqPerSec: result.requests.average, cpu };
}

export async function runHttpThroughput() {
  const redis = await startRedisServer();
  const results = {}; // platform -> variant -> route -> [req/s per round]
  const cpu = {}; // platform -> variant -> route -> [server CPU us per request, per round]
  try {
    for (const platform of options.platforms.split(',')) {
      results[platform] = {};
      cpu[platform] = {};
      for (let round = 0; round < options.rounds; round++) {
        for (const variant of VARIANTS[platform]) {
          const port = await freePort();
          const server = await startNodeServer(SERVER, [platform, variant, String(port), redis.url]);
          const base = `http://127.0.0.1:${port}`;
          try {
            const perRoute = (results[platform][variant] ??= {});
            const cpuPerRoute = (cpu[platform][variant] ??= {});
            const record = (name, { reqPerSec, cpu: micros }) => {
              (perRoute[name] ??= []).push(reqPerSec);
              (cpuPerRoute[name] ??= []).push(micros);
            };
            if (variant === 'bare' || variant === 'bare-interceptor') {
              record('bare', await measure(base, { path: '/bare', method: 'GET' }, '', server.pid));
            } else {
              const cookie = variant.startsWith('floor') ? '' : await sessionCookie(base); // the floor keeps no session
              for (const route of ROUTES) record(route.name, await measure(base, route, cookie, server.pid));
            }
          } finally {
            await server.stop();
          }
          process.stderr.write(`  ${platform} round ${round + 1}/${options.rounds} ${variant} done\n`);
        }
      }
    }
  } finally {
    await redis.stop();
  }
  return summarize(results, cpu);
}

/**
 * The median of the per-round ratios: the servers of one round ran back to back, so a slow phase
 * of a noisy machine (measured here: the same server at 7,400 and 11,700 req/s in one run) slows
 * both sides of a ratio alike, where a ratio of two medians would mix rounds.
 */
function pairedRatio(samples, baselineSamples) {
  return median(samples.map((value, round) => value / baselineSamples[round]));
}

function summarize(results, cpu) {
  const summary = { options, platforms: {} };
  for (const [platform, variants] of Object.entries(results)) {
    const bareSamples = variants.bare.bare;
    const interceptedSamples = variants['bare-interceptor'].bare;
    const rows = [];
    const table = {};
    for (const [variant, routes] of Object.entries(variants)) {
      for (const [route, samples] of Object.entries(routes)) {
        const cpuSamples = cpu[platform][variant][route];
        const entry = {
          reqPerSec: median(samples),
          ratioToBare: pairedRatio(samples, bareSamples),
          ratioToBareInterceptor: pairedRatio(samples, interceptedSamples),
          cpuMicrosPerRequest: median(cpuSamples),
          samples,
          cpuSamples,
        };
        for (const anchor of ['floor', 'es-default', 'es-pipelined']) {
          const anchorSamples = variants[anchor]?.[route];
          // Ours against each anchor; the floor behind an interceptor against express-session, as the bound of the shape.
          if (anchorSamples && (variant.startsWith('ours') || (variant === 'floor-interceptor' && anchor !== 'floor'))) {
            entry[`ratioTo_${anchor}`] = pairedRatio(samples, anchorSamples);
            entry[`cpuRatioTo_${anchor}`] = pairedRatio(cpuSamples, cpu[platform][anchor][route]);
          }
        }
        table[variant === 'bare' || variant === 'bare-interceptor' ? variant : `${variant} ${route}`] = entry;
      }
    }
    for (const [name, entry] of Object.entries(table)) {
      rows.push([
        name,
        Math.round(entry.reqPerSec),
        entry.cpuMicrosPerRequest.toFixed(0),
        entry.ratioToBare.toFixed(2),
        entry.ratioToBareInterceptor.toFixed(2),
        entry.ratioTo_floor?.toFixed(2) ?? '',
        entry['ratioTo_es-default']?.toFixed(2) ?? '',
        entry['ratioTo_es-pipelined']?.toFixed(2) ?? '',
      ]);
    }
    console.log(
      `\nHTTP throughput on ${platform} (${options.connections} connections, ${options.rounds} rounds of ${options.duration} s; req/s and CPU: median; ratios: median of per-round ratios)`,
    );
    printTable(['server and route', 'req/s', 'us CPU/req', 'x bare', 'x bare+icpt', 'x floor', 'x es-default', 'x es-pipelined'], rows);
    summary.platforms[platform] = table;
  }
  return summary;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const summary = await runHttpThroughput();
  const out = join(here, 'results/http-throughput.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(summary, null, 2));
  writeRatioChart(summary, join(here, '../docs/images/http-ratios.svg'));
  console.log(`\nWrote ${out} and docs/images/http-ratios.svg`);
}
