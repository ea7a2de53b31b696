// HTTP throughput: bare Nest vs this library vs express-session + connect-redis, on loopback, with
// the floor (the same Redis round trips, plain commands sent straight from a handler) to show the
// library's own cost.
// Usage: npm run bench -- http [--rounds 3] [--duration 5] [--warmup 2] [--connections 50] [--platforms express,fastify]
// Each server runs in its own process; servers are alternated A B C D A B C D...; medians of the
// rounds; every figure is also a ratio to bare Nest measured in the same run (noisy 2-core machines).
import autocannon from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../test/harness/redis-server.js';
import { writeRatioChart } from './lib/chart.js';
import { flags, median, printTable, startNodeServer } from './lib/processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, '../dist/bench/servers/http-server.js');
const options = flags({ rounds: 3, duration: 5, warmup: 2, connections: 50, platforms: 'express,fastify' });

const VARIANTS = {
  express: ['bare', 'floor', 'ours', 'es-default', 'es-pipelined'],
  fastify: ['bare', 'floor', 'ours'],
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

async function measure(base, route, cookie) {
  const url = base + route.path;
  const headers = route.fresh ? {} : { cookie };
  await load(url, { method: route.method, headers, duration: options.warmup });
  const result = await load(url, { method: route.method, headers, duration: options.duration });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

export async function runHttpThroughput() {
  const redis = await startRedisServer();
  const results = {}; // platform -> variant -> route -> [req/s per round]
  try {
    for (const platform of options.platforms.split(',')) {
      results[platform] = {};
      for (let round = 0; round < options.rounds; round++) {
        for (const variant of VARIANTS[platform]) {
          const port = await freePort();
          const server = await startNodeServer(SERVER, [platform, variant, String(port), redis.url]);
          const base = `http://127.0.0.1:${port}`;
          try {
            const perRoute = (results[platform][variant] ??= {});
            if (variant === 'bare') {
              (perRoute.bare ??= []).push(await measure(base, { path: '/bare', method: 'GET' }));
            } else {
              const cookie = variant === 'floor' ? '' : await sessionCookie(base); // the floor keeps no session
              for (const route of ROUTES) (perRoute[route.name] ??= []).push(await measure(base, route, cookie));
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
  return summarize(results);
}

/**
 * The median of the per-round ratios: the servers of one round ran back to back, so a slow phase
 * of a noisy machine (measured here: the same server at 7,400 and 11,700 req/s in one run) slows
 * both sides of a ratio alike, where a ratio of two medians would mix rounds.
 */
function pairedRatio(samples, baselineSamples) {
  return median(samples.map((value, round) => value / baselineSamples[round]));
}

function summarize(results) {
  const summary = { options, platforms: {} };
  for (const [platform, variants] of Object.entries(results)) {
    const bareSamples = variants.bare.bare;
    const rows = [];
    const table = { bare: { reqPerSec: median(bareSamples), ratioToBare: 1, samples: bareSamples } };
    for (const [variant, routes] of Object.entries(variants)) {
      if (variant === 'bare') continue;
      for (const [route, samples] of Object.entries(routes)) {
        const entry = { reqPerSec: median(samples), ratioToBare: pairedRatio(samples, bareSamples), samples };
        for (const anchor of ['floor', 'es-default', 'es-pipelined']) {
          const anchorSamples = variants[anchor]?.[route];
          if (variant === 'ours' && anchorSamples) entry[`ratioTo_${anchor}`] = pairedRatio(samples, anchorSamples);
        }
        table[`${variant} ${route}`] = entry;
      }
    }
    for (const [name, entry] of Object.entries(table)) {
      rows.push([
        name,
        Math.round(entry.reqPerSec),
        entry.ratioToBare.toFixed(2),
        entry.ratioTo_floor?.toFixed(2) ?? '',
        entry['ratioTo_es-default']?.toFixed(2) ?? '',
        entry['ratioTo_es-pipelined']?.toFixed(2) ?? '',
      ]);
    }
    console.log(`\nHTTP throughput on ${platform} (${options.connections} connections, ${options.rounds} rounds of ${options.duration} s; req/s: median; ratios: median of per-round ratios)`);
    printTable(['server and route', 'req/s', 'x bare', 'x floor', 'x es-default', 'x es-pipelined'], rows);
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
