// WebSocket throughput: acked messages per second through a Nest gateway, with the gateway on
// the plain IoAdapter (raw) and on SessionIoAdapter, plus the Redis writes the session variant
// makes per message and the server's CPU time per message.
// Usage: npm run bench:ws -- [--rounds 3] [--duration 5] [--warmup 1] [--profile 0|1]
//   (or, after `npm run build:lib`: node bench/ws-throughput.js [flags])
// Variants (bench/lib/ws-bench-server.js): bare = Nest without the session module; raw = the app
// with EnableRedisHttpSession, gateway on IoAdapter; session = the same app on SessionIoAdapter.
// "x raw" is the adapter's cost; "x bare" the whole module's cost on gateway messages.
// Each server runs in its own process on loopback, started and stopped here, alternated
// bare, raw, session, bare, raw, session...; figures are medians of the rounds, ratios taken
// within this run. Redis is a private redis-server started here; writes are counted from INFO
// commandstats (every session write, touch or save, runs one HSET). --profile 1 writes CPU
// profiles of every server (node --cpu-prof) to bench/results/profiles/<variant>/.
import { Redis } from 'ioredis';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../test/harness/redis-server.js';
import { flags, median, printTable, startNodeServer } from './lib/processes.js';
import { openSockets, PAYLOAD } from './lib/ws-clients.js';
import { writeResults } from './lib/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, 'lib/ws-bench-server.js');
const options = flags({ rounds: 3, duration: 5, warmup: 1, profile: 0 });
if (!(options.rounds >= 3)) throw new Error('--rounds must be at least 3 (medians)');
/** Upper bound on messages per measurement, whatever the duration: keeps every loop bounded in count too. */
const MAX_MESSAGES = 2_000_000;
const ACK_TIMEOUT_MS = 10_000;

const VARIANTS = ['bare', 'raw', 'session'];
const PATTERNS = [
  { name: '1 socket, 50 in flight', sockets: 1, inFlight: 50, event: 'echo' },
  { name: '50 sockets, 1 in flight each', sockets: 50, inFlight: 1, event: 'echo' },
  // A handler that reads @Session(): served from the socket session cache (no round trip while
  // nothing changed). Measured target: >= 0.85x raw echo, <= 0.01 Redis commands per message.
  { name: '1 socket, 50 in flight, handler reads @Session()', sockets: 1, inFlight: 50, event: 'whoami', sessionOnly: true },
];

/** Keeps `inFlight` acked messages outstanding per socket for `durationMs`; resolves to acked messages per second. */
async function pump(sockets, inFlight, event, durationMs) {
  const started = Date.now();
  const deadline = started + durationMs;
  let sent = 0;
  let acked = 0;
  const lane = async (socket) => {
    while (Date.now() < deadline && sent < MAX_MESSAGES) {
      sent++;
      await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, event === 'echo' ? { ...PAYLOAD, n: sent } : undefined);
      acked++;
    }
  };
  await Promise.all(sockets.flatMap((socket) => Array.from({ length: inFlight }, () => lane(socket))));
  return { perSecond: (acked * 1000) / (Date.now() - started), messages: acked };
}

async function serverCpuMicros(base) {
  const response = await fetch(`${base}/bench/cpu`);
  return (await response.json()).micros;
}

async function commandStats(admin) {
  const text = await admin.info('commandstats');
  const calls = {};
  for (const [, name, count] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[name] = Number(count);
  return calls;
}

async function measureVariant(variant, redis, admin, samples) {
  const port = await freePort();
  const serverArgs = [variant, String(port), redis.url];
  // Node refuses --cpu-prof in NODE_OPTIONS: pass it as the first argument of the node command line instead.
  const server = options.profile
    ? await startNodeServer('--cpu-prof', [`--cpu-prof-dir=${join(here, 'results/profiles', variant)}`, SERVER, ...serverArgs])
    : await startNodeServer(SERVER, serverArgs);
  const base = `http://127.0.0.1:${port}`;
  try {
    for (const pattern of PATTERNS) {
      if (pattern.sessionOnly && variant !== 'session') continue;
      const sockets = await openSockets(base, pattern.sockets, variant !== 'bare');
      try {
        await pump(sockets, pattern.inFlight, pattern.event, options.warmup * 1000);
        const [before, cpuBefore] = [await commandStats(admin), await serverCpuMicros(base)];
        const { perSecond, messages } = await pump(sockets, pattern.inFlight, pattern.event, options.duration * 1000);
        const [after, cpuAfter] = [await commandStats(admin), await serverCpuMicros(base)];
        // Every command Redis ran (those inside scripts included), less the INFO that took `before`.
        const commands = Object.keys(after).reduce((sum, name) => sum + after[name] - (before[name] ?? 0), 0) - 1;
        ((samples[pattern.name] ??= {})[variant] ??= []).push({
          perSecond,
          cpuMicrosPerMessage: (cpuAfter - cpuBefore) / messages,
          redisWritesPerMessage: ((after.hset ?? 0) - (before.hset ?? 0)) / messages,
          redisCommandsPerMessage: commands / messages,
        });
      } finally {
        for (const socket of sockets) socket.close();
      }
    }
  } finally {
    await server.stop();
  }
}

export async function runWsThroughput() {
  const redis = await startRedisServer();
  const admin = new Redis(redis.url, { enableAutoPipelining: false });
  const samples = {};
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const variant of VARIANTS) {
        await measureVariant(variant, redis, admin, samples);
        process.stderr.write(`  round ${round + 1}/${options.rounds} ${variant} done\n`);
      }
    }
  } finally {
    admin.disconnect();
    await redis.stop();
  }
  return summarize(samples);
}

function summarize(samples) {
  const medianOf = (list, field) => median(list.map((sample) => sample[field]));
  const rows = [];
  const table = {};
  for (const pattern of PATTERNS) {
    // The session-reading handler has no counterpart without the adapter: it is compared with echo.
    const reference = samples[pattern.sessionOnly ? PATTERNS[0].name : pattern.name];
    const session = samples[pattern.name].session;
    const entry = {
      bare: { perSecond: medianOf(reference.bare, 'perSecond'), cpuMicrosPerMessage: medianOf(reference.bare, 'cpuMicrosPerMessage') },
      raw: { perSecond: medianOf(reference.raw, 'perSecond'), cpuMicrosPerMessage: medianOf(reference.raw, 'cpuMicrosPerMessage') },
      session: { perSecond: medianOf(session, 'perSecond'), cpuMicrosPerMessage: medianOf(session, 'cpuMicrosPerMessage') },
      redisWritesPerMessage: medianOf(session, 'redisWritesPerMessage'),
      samples: samples[pattern.name],
    };
    entry.ratioToRaw = entry.session.perSecond / entry.raw.perSecond;
    entry.ratioToBare = entry.session.perSecond / entry.bare.perSecond;
    if (pattern.sessionOnly) {
      // Paired within each round (the raw echo of the same round), then the median: the machine's drift between rounds cancels out.
      entry.roundRatiosToRaw = session.map((sample, round) => sample.perSecond / reference.raw[round].perSecond);
      entry.pairedRatioToRaw = median(entry.roundRatiosToRaw);
      entry.redisCommandsPerMessage = medianOf(session, 'redisCommandsPerMessage');
    }
    table[pattern.name] = entry;
    rows.push([
      pattern.name + (pattern.sessionOnly ? ' (vs echo)' : ''),
      Math.round(entry.bare.perSecond),
      Math.round(entry.raw.perSecond),
      Math.round(entry.session.perSecond),
      entry.ratioToRaw.toFixed(2),
      entry.ratioToBare.toFixed(2),
      `${entry.bare.cpuMicrosPerMessage.toFixed(1)} / ${entry.raw.cpuMicrosPerMessage.toFixed(1)} / ${entry.session.cpuMicrosPerMessage.toFixed(1)}`,
      entry.redisWritesPerMessage.toFixed(5),
    ]);
  }
  console.log(`\nSocket.IO acked messages/s through a Nest gateway, median of ${options.rounds} rounds of ${options.duration} s (${process.version})`);
  console.log('bare = no session module; raw = session module, plain IoAdapter; session = session module, SessionIoAdapter');
  printTable(['pattern', 'bare msg/s', 'raw msg/s', 'session msg/s', 'x raw', 'x bare', 'server CPU us/msg b/r/s', 'Redis writes/msg'], rows);
  const echo = PATTERNS.filter((p) => !p.sessionOnly).map((p) => table[p.name]);
  const met = echo.every((e) => e.ratioToRaw >= 0.9 && e.redisWritesPerMessage <= 0.01);
  console.log(`\nTarget for handlers that do not read the session (>= 0.90x raw, <= 0.01 Redis writes per message): ${met ? 'met' : 'MISSED'}`);
  const reader = table[PATTERNS.find((p) => p.sessionOnly).name];
  const readerMet = reader.pairedRatioToRaw >= 0.85 && reader.redisCommandsPerMessage <= 0.01;
  const range = `${Math.min(...reader.roundRatiosToRaw).toFixed(2)}-${Math.max(...reader.roundRatiosToRaw).toFixed(2)}`;
  console.log(
    `Target for a handler that reads @Session() (>= 0.85x raw echo, median of per-round paired ratios; <= 0.01 Redis commands per message): ` +
      `${reader.pairedRatioToRaw.toFixed(2)}x (rounds ${range}), ${reader.redisCommandsPerMessage.toFixed(5)} commands/msg: ${readerMet ? 'met' : 'MISSED'}`,
  );
  return { options, node: process.version, table, targetMet: met, sessionReaderTargetMet: readerMet };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const summary = await runWsThroughput();
  writeResults('ws-throughput', summary);
}
