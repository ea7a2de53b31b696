// Redis cost per request: commands and round trips, for this library and express-session +
// connect-redis. Usage: npm run bench -- redis-cost [--requests 200]
// At concurrency 1, INFO's total_reads_processed counts round trips (each read syscall on the
// server is one batch of commands from a client). Our sweeper is slowed down for the run so its
// background ticks do not count against requests.
import { Redis } from 'ioredis';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../test/harness/redis-server.js';
import { BARE_ROUTE, SESSION_ROUTES } from './lib/http-routes.js';
import { flags, printTable, sessionCookie, startNodeServer } from './lib/processes.js';
import { writeResults } from './lib/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, '../dist/bench/servers/http-server.js');
const options = flags({ requests: 200 });
const ROUTES = [{ ...BARE_ROUTE, name: 'untouched' }, ...SESSION_ROUTES];

async function stats(client) {
  const info = await client.info('stats');
  const read = (name) => Number(new RegExp(`${name}:(\\d+)`).exec(info)[1]);
  return { commands: read('total_commands_processed'), reads: read('total_reads_processed') };
}

export async function runRedisCost() {
  const redis = await startRedisServer();
  const admin = new Redis(redis.url);
  const rows = [];
  const results = {};
  try {
    for (const variant of ['ours', 'es-default']) {
      const port = await freePort();
      const server = await startNodeServer(SERVER, ['express', variant, String(port), redis.url], { env: { SWEEP_MS: '3600000' } });
      const base = `http://127.0.0.1:${port}`;
      try {
        const cookie = await sessionCookie(base);
        for (const route of ROUTES) {
          const before = await stats(admin);
          for (let i = 0; i < options.requests; i++) {
            const response = await fetch(base + route.path, { method: route.method, headers: route.fresh ? {} : { cookie } });
            await response.arrayBuffer();
          }
          const after = await stats(admin);
          // The second INFO is counted (as one command and one read) before it reports.
          const commands = (after.commands - before.commands - 1) / options.requests;
          const roundTrips = (after.reads - before.reads - 1) / options.requests;
          (results[variant] ??= {})[route.name] = { commands, roundTrips };
          rows.push([variant, route.name, commands.toFixed(2), roundTrips.toFixed(2)]);
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    await admin.quit();
    await redis.stop();
  }
  console.log(`\nRedis cost per request (concurrency 1, ${options.requests} requests each)`);
  printTable(['server', 'request', 'commands', 'round trips'], rows);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runRedisCost();
  writeResults('redis-cost', results);
}
