// HTTP throughput: bare Nest vs this library vs express-session + connect-redis, on loopback, with
// the floor (the same Redis round trips, plain commands sent straight from a handler) to show the
// library's own cost, and bare Nest with one no-op global interceptor (the price of the session
// filter's shape before it does anything), and the floor behind that interceptor (the most a filter of
// that shape could reach). Server CPU per request is read from /proc.
// Usage: npm run bench -- http [--rounds 3] [--duration 5] [--warmup 2] [--connections 50] [--platforms express,fastify]
//        [--sessions 1] [--profile 0|1]
// Each server runs in its own process; each round runs every server once, the order rotated by one
// from round to round (a machine that slows down does not always tax the same servers); medians of
// the rounds; every figure is also a ratio to bare Nest measured in the same run (noisy 2-core machines).
// --sessions N: each request carries one of N sessions, picked at random (N logins first), instead of
// one session shared by every connection: with N = 10000 most reads are due a touch of their session.
// --profile 1: each server runs under node --cpu-prof, its profile written to
// bench/results/profiles/<platform>-<variant>/ (the "where the time goes" figures; profiling slows
// the servers, so the throughput figures of such a run are not comparable with others).
import autocannon from 'autocannon';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../test/harness/redis-server.js';
import { writeRatioChart } from './lib/chart.js';
import { BARE_ROUTE, SESSION_ROUTES, usesSessionCookie } from './lib/http-routes.js';
import { cpuMicros, flags, median, printTable, sessionCookie, startNodeServer } from './lib/processes.js';
import { writeResults } from './lib/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, '../dist/bench/servers/http-server.js');
const options = flags({ rounds: 3, duration: 5, warmup: 2, connections: 50, platforms: 'express,fastify', sessions: 1, profile: 0 });

const VARIANTS = {
  express: ['bare', 'bare-interceptor', 'floor', 'floor-interceptor', 'ours', 'ours-req-session', 'es-default', 'es-pipelined'],
  fastify: ['bare', 'bare-interceptor', 'floor', 'floor-interceptor', 'ours', 'fs-pipelined'],
};

/** `cookies`: one per request, picked at random, instead of the same headers on every request. */
function load(url, { method = 'GET', headers = {}, duration, cookies }) {
  const requests = cookies && [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, cookie: cookies[Math.floor(Math.random() * cookies.length)] } }) }];
  return new Promise((resolve, reject) => {
    autocannon({ url, method, headers, requests, connections: options.connections, duration }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** `count` sessions, logged in 50 at a time. */
async function sessionCookies(base, count) {
  const cookies = [];
  while (cookies.length < count) cookies.push(...(await Promise.all(Array.from({ length: Math.min(50, count - cookies.length) }, () => sessionCookie(base)))));
  return cookies;
}

/** Round r runs the servers from the r-th on, wrapping around. */
function rotated(variants, round) {
  const start = round % variants.length;
  return [...variants.slice(start), ...variants.slice(0, start)];
}

/** Requests per second over the measured phase, and the server's CPU microseconds per request in it. */
async function measure(base, route, cookies, pid) {
  const url = base + route.path;
  const session = route.fresh || cookies.length === 0 ? {} : cookies.length === 1 ? { headers: { cookie: cookies[0] } } : { cookies };
  await load(url, { method: route.method, ...session, duration: options.warmup });
  const cpuBefore = cpuMicros(pid);
  const result = await load(url, { method: route.method, ...session, duration: options.duration });
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
        for (const variant of rotated(VARIANTS[platform], round)) {
          const port = await freePort();
          const serverArgs = [platform, variant, String(port), redis.url];
          const server = options.profile
            ? await startNodeServer('--cpu-prof', [`--cpu-prof-dir=${join(here, 'results/profiles', `${platform}-${variant}`)}`, SERVER, ...serverArgs])
            : await startNodeServer(SERVER, serverArgs);
          const base = `http://127.0.0.1:${port}`;
          try {
            const perRoute = (results[platform][variant] ??= {});
            const cpuPerRoute = (cpu[platform][variant] ??= {});
            const record = (name, { reqPerSec, cpu: micros }) => {
              (perRoute[name] ??= []).push(reqPerSec);
              (cpuPerRoute[name] ??= []).push(micros);
            };
            if (variant === 'bare' || variant === 'bare-interceptor') {
              record('bare', await measure(base, BARE_ROUTE, [], server.pid));
            } else {
              // The floor keeps no session: its commands go to one fixed hash whatever the load.
              const cookies = usesSessionCookie(variant) ? await sessionCookies(base, options.sessions) : [];
              for (const route of SESSION_ROUTES) record(route.name, await measure(base, route, cookies, server.pid));
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
        for (const anchor of ['floor', 'floor-interceptor', 'es-default', 'es-pipelined', 'fs-pipelined']) {
          const anchorSamples = variants[anchor]?.[route];
          // Ours against each anchor; the floor behind an interceptor against express-session and
          // @fastify/session, as the bound of the shape.
          if (anchorSamples && (variant.startsWith('ours') || (variant === 'floor-interceptor' && !anchor.startsWith('floor')))) {
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
        entry['ratioTo_floor-interceptor']?.toFixed(2) ?? '',
        ...(platform === 'fastify'
          ? [entry['ratioTo_fs-pipelined']?.toFixed(2) ?? '', entry['cpuRatioTo_fs-pipelined']?.toFixed(2) ?? '']
          : [entry['ratioTo_es-default']?.toFixed(2) ?? '', entry['ratioTo_es-pipelined']?.toFixed(2) ?? '', entry['cpuRatioTo_es-pipelined']?.toFixed(2) ?? '']),
      ]);
    }
    console.log(
      `\nHTTP throughput on ${platform} (${options.connections} connections, ${options.sessions === 1 ? 'one session' : `${options.sessions} sessions picked at random`}, ${options.rounds} rounds of ${options.duration} s, order rotated; req/s and CPU: median; ratios: median of per-round ratios)`,
    );
    const anchors = platform === 'fastify' ? ['x fs-pipelined', 'CPU x fs-pipelined'] : ['x es-default', 'x es-pipelined', 'CPU x es-pipelined'];
    printTable(['server and route', 'req/s', 'us CPU/req', 'x bare', 'x bare+icpt', 'x floor', 'x floor+icpt', ...anchors], rows);
    summary.platforms[platform] = table;
  }
  return summary;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const summary = await runHttpThroughput();
  writeResults('http-throughput', summary);
  const chart = join(here, '../docs/images/http-ratios.svg');
  writeRatioChart(summary, chart);
  console.log(`Wrote ${chart}`);
}
