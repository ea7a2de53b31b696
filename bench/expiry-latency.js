// How late does `expired` arrive? Deadline-to-event latency as seen by SessionEvents on two
// module instances, with 1,000 sessions expiring among 100,000 live ones (a session store where
// every key has a TTL: the case where Redis' own expiry is slowest, see ANCHORS.md).
//
//   npm run build:lib && npm run bench:expiry
//   LIVE_SESSIONS=1000000 npm run bench:expiry     (a million live sessions: ~2 minutes to fill)
//
// Runs on its own redis-server processes (free loopback ports) and stops them. Every loop is
// bounded in count and in time. Scenarios: the default server (keyspace notifications switched on
// by the module, plus the sweeper), and a managed-Redis-like server with CONFIG disabled (sweeper only).
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { EnableRedisHttpSession, SessionEvents, SessionRepository } from 'nestjs-redis-session';
import { Redis } from 'ioredis';
import { startRedisServer } from '../test/harness/redis-server.js';
import { fillLiveSessions, percentile } from './lib/live-sessions.js';

const LIVE_SESSIONS = Number(process.env.LIVE_SESSIONS ?? 100_000);
const EXPIRING_SESSIONS = Number(process.env.EXPIRING_SESSIONS ?? 1_000);
/** Expiring sessions are created in this many waves, WAVE_GAP_MS apart, with 2 or 3 s intervals: deadlines spread over ~4 s. */
const WAVES = 100;
const WAVE_GAP_MS = 30;
/** After the last deadline, how long to wait for stragglers before counting them as missing. */
const GRACE_MS = 10_000;

const scenarios = [
  { name: 'keyspace notifications + sweeper', serverArgs: [] },
  { name: 'CONFIG disabled: sweeper only', serverArgs: ['--rename-command', 'CONFIG', ''] },
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function startInstance(url, namespace) {
  const app = await NestFactory.createApplicationContext(EnableRedisHttpSession.forRoot({ redis: url, redisNamespace: namespace }), {
    logger: ['error', 'warn'],
  });
  const arrivals = new Map(); // session id -> times its `expired` arrived
  app.get(SessionEvents).subscribe((event) => {
    if (event.type !== 'expired') return;
    const times = arrivals.get(event.sessionId) ?? [];
    times.push(Date.now());
    arrivals.set(event.sessionId, times);
  });
  return { app, repository: app.get(SessionRepository), arrivals };
}

/** Creates the expiring sessions through the repository; resolves to id -> earliest possible deadline (epoch ms). */
async function createExpiringSessions(repository, count) {
  const deadlines = new Map();
  const perWave = Math.ceil(count / WAVES);
  for (let wave = 0; wave < WAVES; wave++) {
    const started = Date.now();
    const saves = [];
    for (let i = wave * perWave; i < Math.min(count, (wave + 1) * perWave); i++) {
      const intervalSeconds = 2 + (i % 2);
      // Taken before the save: the key's TTL starts later, so latencies below are upper bounds.
      const createdAt = Date.now();
      const session = repository.createSession();
      session.maxInactiveIntervalInSeconds = intervalSeconds;
      session.set('user', `expiring${i}`);
      saves.push(repository.save(session).then(() => deadlines.set(session.id, createdAt + intervalSeconds * 1000)));
    }
    await Promise.all(saves);
    await sleep(Math.max(0, WAVE_GAP_MS - (Date.now() - started)));
  }
  return deadlines;
}

function summarize(label, deadlines, arrivals) {
  const latencies = [];
  let missing = 0;
  let duplicates = 0;
  let early = 0;
  for (const [id, deadline] of deadlines) {
    const times = arrivals.get(id);
    if (!times) {
      missing++;
      continue;
    }
    duplicates += times.length - 1;
    if (times[0] < deadline) early++;
    latencies.push(times[0] - deadline);
  }
  latencies.sort((x, y) => x - y);
  return { label, delivered: latencies.length, missing, duplicates, early, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN };
}

async function runScenario({ name, serverArgs }) {
  const server = await startRedisServer({ args: serverArgs });
  const namespace = 'bench:expiry';
  const instances = [];
  try {
    const keys = await fillLiveSessions(server.url, namespace, LIVE_SESSIONS);
    const info = new Redis(server.url);
    const usedMemory = Number(/used_memory:(\d+)/.exec(await info.info('memory'))[1]);
    info.disconnect();
    instances.push(await startInstance(server.url, namespace), await startInstance(server.url, namespace));
    const deadlines = await createExpiringSessions(instances[0].repository, EXPIRING_SESSIONS);
    const lastDeadline = Math.max(...deadlines.values());
    // Bounded wait: until both instances saw every expiry, or GRACE_MS after the last deadline.
    const everyoneSawAll = () => instances.every(({ arrivals }) => [...deadlines.keys()].every((id) => arrivals.has(id)));
    while (!everyoneSawAll() && Date.now() < lastDeadline + GRACE_MS) await sleep(100);
    await sleep(1000); // a late duplicate would show up here
    const rows = instances.map((instance, i) => summarize(`instance ${'AB'[i]}`, deadlines, instance.arrivals));
    return { name, keys, usedMemory, rows };
  } finally {
    await Promise.all(instances.map(({ app }) => app.close()));
    await server.stop();
  }
}

function printTable(results) {
  const header = ['scenario', 'instance', 'delivered', 'missing', 'dupes', 'p50 ms', 'p99 ms', 'max ms'];
  const lines = [header];
  for (const { name, rows } of results) {
    for (const row of rows) lines.push([name, row.label, row.delivered, row.missing, row.duplicates, row.p50, row.p99, row.max].map(String));
  }
  const widths = header.map((_, col) => Math.max(...lines.map((line) => line[col].length)));
  const format = (line) => `| ${line.map((cell, col) => cell.padEnd(widths[col])).join(' | ')} |`;
  console.log(format(lines[0]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines.slice(1)) console.log(format(line));
}

const results = [];
for (const scenario of scenarios) {
  const started = Date.now();
  const result = await runScenario(scenario);
  console.log(
    `${scenario.name}: ${result.keys} keys in Redis before the expiring sessions, using ${(result.usedMemory / 1024 / 1024).toFixed(0)} MB; ran ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  results.push(result);
}
console.log(`\n${EXPIRING_SESSIONS} sessions (2-3 s interval) expiring among ${LIVE_SESSIONS} live ones; latency = event time - deadline (an upper bound: the deadline is taken before the save)\n`);
printTable(results);
const worst = Math.max(...results.flatMap(({ rows }) => rows.map((row) => row.p99)));
const lost = results.flatMap(({ rows }) => rows).reduce((sum, row) => sum + row.missing + row.duplicates + row.early, 0);
console.log(`\nworst p99: ${worst} ms (target <= 1000 ms); missing + duplicate + early events: ${lost}`);
process.exitCode = worst <= 1000 && lost === 0 ? 0 : 1;
