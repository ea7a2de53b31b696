// Instructions per HTTP request, counted by valgrind's callgrind in each server process: the
// machine-independent view of what the HTTP throughput bench measures in seconds. Time on these
// shared 2-core machines moves by 30% between identical rounds; a count of executed instructions
// does not depend on what else the machine runs (it still varies with V8's JIT and GC:
// a count of 3,000 requests holds an old-generation collection or not, so one server's counts spread by up to 50%).
// Usage: npm run bench -- instructions [--platform express|fastify] [--requests 3000] [--warmup 12000] [--repeats 3]
//        [--connections 10] [--variants bare,bare-interceptor,floor-interceptor,ours,es-pipelined] [--routes read,write,login]
// --routes: which session routes to count (all by default); an A/B of one route need not wait for the others.
// --warmup: 12,000 by default, as a login server was measured still being optimized after 3,000 logins.
// On Fastify the default variants compare with fs-pipelined (@fastify/session) instead of es-pipelined.
// Each server runs under `valgrind --tool=callgrind` (bench/lib/callgrind.js); after the warm-up its
// counters are zeroed, a fixed number of requests is sent, and the counters are dumped: the total
// over the requests, divided by their number. Redis and the load generator run natively. Our
// server's expiry sweeper is slowed to once an hour: its ticks are per instance, not per request.
import autocannon from 'autocannon';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eachUnderCallgrind } from './lib/callgrind.js';
import { BARE_ROUTE, SESSION_ROUTES, usesSessionCookie } from './lib/http-routes.js';
import { flags, median, printTable, sessionCookie } from './lib/processes.js';
import { writeResults } from './lib/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, '../dist/bench/servers/http-server.js');
const options = flags({ platform: 'express', requests: 3000, warmup: 12000, repeats: 3, connections: 10, variants: '', routes: '' });
/** What the platform's users would pick instead of us. */
const RIVAL = options.platform === 'fastify' ? 'fs-pipelined' : 'es-pipelined';
if (!options.variants) options.variants = `bare,bare-interceptor,floor-interceptor,ours,${RIVAL}`;

/** The session routes --routes names (all when it names none). */
function sessionRoutes() {
  if (!options.routes) return SESSION_ROUTES;
  const names = options.routes.split(',');
  const unknown = names.filter((name) => !SESSION_ROUTES.some((route) => route.name === name));
  if (unknown.length > 0) throw new Error(`--routes ${unknown.join(',')}: the session routes are ${SESSION_ROUTES.map((route) => route.name).join(', ')}`);
  return SESSION_ROUTES.filter((route) => names.includes(route.name));
}

function load(url, { method, headers, amount }) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method, headers, connections: options.connections, amount, timeout: 60 }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Instructions per request of `route`, counted over a fixed number of requests. */
function count(server, url, route, headers) {
  return server.count(async () => {
    const result = await load(url + route.path, { method: route.method, headers, amount: options.requests });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}${route.path}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result.requests.total;
  });
}

export async function runHttpInstructions() {
  const counts = {}; // "variant route" -> [instructions per request, per repeat]
  const argsFor = (variant, port, redisUrl) => [options.platform, variant, String(port), redisUrl];
  await eachUnderCallgrind(SERVER, options.variants.split(','), argsFor, async (variant, server, base) => {
    const routes = variant.startsWith('bare') ? [BARE_ROUTE] : sessionRoutes();
    const cookie = usesSessionCookie(variant) ? await sessionCookie(base) : '';
    const headers = cookie ? { cookie } : {};
    for (const route of routes) {
      const routeHeaders = route.fresh ? {} : headers;
      await load(base + route.path, { method: route.method, headers: routeHeaders, amount: options.warmup });
      const samples = (counts[`${variant} ${route.name}`] = []);
      for (let repeat = 0; repeat < options.repeats; repeat++) samples.push(await count(server, base, route, routeHeaders));
      process.stderr.write(`  ${variant} ${route.name}: ${samples.map((n) => Math.round(n / 1000)).join(', ')} k instructions/request\n`);
    }
  });
  return summarize(counts);
}

function summarize(counts) {
  const of = (name) => (counts[name] ? median(counts[name]) : undefined);
  const rows = Object.entries(counts).map(([name, samples]) => {
    const route = name.split(' ')[1];
    const perRequest = median(samples);
    const ratio = (other) => (of(other) ? (perRequest / of(other)).toFixed(2) : '');
    return [
      name,
      Math.round(perRequest / 1000),
      `${Math.round(Math.min(...samples) / 1000)}-${Math.round(Math.max(...samples) / 1000)}`,
      ratio('bare-interceptor bare'),
      route === 'bare' ? '' : ratio(`floor-interceptor ${route}`),
      route === 'bare' ? '' : ratio(`${RIVAL} ${route}`),
    ];
  });
  console.log(
    `\nInstructions per request on ${options.platform} (callgrind; ${options.requests} requests x ${options.repeats} after ${options.warmup} of warm-up, ${options.connections} connections; median and range in thousands)`,
  );
  printTable(['server and route', 'k instr/req', 'range', 'x bare+icpt', 'x floor+icpt', `x ${RIVAL}`], rows);
  return { options, counts };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const summary = await runHttpInstructions();
  writeResults(`http-instructions${options.platform === 'express' ? '' : `-${options.platform}`}`, summary);
}
