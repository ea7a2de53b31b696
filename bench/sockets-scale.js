// One instance at scale: N Socket.IO connections (default 10,000), each under its own session, on
// one app instance (bench/lib/sockets-scale-server.js, its own process) and a private Redis, on
// loopback. Reports memory per session and per socket on the instance (after a full GC) and in
// Redis, handshake throughput, Redis commands per second at a steady chat rate, and then ends every
// session in the same second (idle expiry): sockets closed, missed, how fast after their deadline,
// expiry events seen, and the instance's memory once they are gone; then (--cycles N, default 2)
// opens and expires as many again, to tell a heap that is warm from one that holds on to earlier
// cycles, and measures once more when the last ended ids are past the library's 30-s dedupe window.
// The memory baseline is taken twice: cold (nothing compiled, no table grown yet), and warm, after a
// small cycle of the same (--warmup-sockets N, default 1000: log in, open, expire the same way),
// which is the one the figures are measured against. --heap-snapshots <dir> also has the instance
// write V8 heap snapshots there (cold, warm, after-expiry-<cycle>, after-window), to compare with
// bench/lib/heap-snapshot-diff.js. --profile <dir> runs the instance under --cpu-prof (profiles
// written there) and prints where its CPU went from the first mass expiry's first deadline to its
// last close, by owner and by the library's frames: what bounds how fast it closes sockets.
// Usage: npm run bench -- sockets [--sockets 10000] [--concurrency 200] [--chat-seconds 20] [--chat-interval 5] [--cycles 2]
//   [--warmup-sockets 1000] [--heap-snapshots <dir>] [--profile <dir>]
// Bounded: every phase has a deadline and a fixed count; the whole run takes about 3-4 minutes.
import { Redis } from 'ioredis';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../test/harness/redis-server.js';
import { selfTimeByFrame } from './lib/cpu-profiles.js';
import { flags, median, printTable, startNodeServer } from './lib/processes.js';
import { connectSocket } from './lib/ws-clients.js';
import { writeResults } from './lib/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, 'lib/sockets-scale-server.js');
const options = flags({
  sockets: 10_000,
  concurrency: 200,
  'chat-seconds': 20,
  'chat-interval': 5,
  cycles: 2,
  'warmup-sockets': 1000,
  'heap-snapshots': undefined,
  profile: undefined,
});
const PHASE_TIMEOUT_MS = 120_000;
/** The mass expiry's deadlines fall in the second that starts this long after the request (time to set them all). */
const EXPIRY_LEAD_MS = 15_000;
/** The library remembers each ended id this long (RedisEventListener's dedupe window, pruned within a second of it), plus a margin. */
const ENDED_IDS_WINDOW_MS = 30_000 + 3000;

const withTimeout = (promise, ms, what) => {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)))]).finally(
    () => clearTimeout(timer),
  );
};

/** Runs `task(i)` for i < count, `concurrency` at a time. */
async function pool(count, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

async function stats(base) {
  return (await fetch(`${base}/bench/stats`)).json();
}

/** With --heap-snapshots: the instance writes `<dir>/<label>.heapsnapshot` (after a full GC); a few seconds at this heap size. */
async function heapSnapshot(base, label) {
  if (options['heap-snapshots'] === undefined) return;
  const response = await fetch(`${base}/bench/heap-snapshot/${label}`, { method: 'POST' });
  if (!response.ok) throw new Error(`heap snapshot ${label}: HTTP ${response.status}`);
  console.log(`heap snapshot: ${(await response.json()).file}`);
}

async function redisInfo(redis) {
  return { memory: Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]) };
}

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);

/** `n` sessions, logged in 50 at a time: their cookies, and logins per second. */
async function logIn(base, n) {
  const cookies = new Array(n);
  const started = performance.now();
  await withTimeout(
    pool(n, 50, async (i) => {
      const response = await fetch(`${base}/login`, { method: 'POST' });
      cookies[i] = response.headers.getSetCookie()[0].split(';')[0];
    }),
    PHASE_TIMEOUT_MS,
    'logins',
  );
  return { cookies, perSecond: n / ((performance.now() - started) / 1000) };
}

/** One socket per session, `options.concurrency` handshakes at a time: the sockets, and handshakes per second. */
async function openSockets(base, cookies, sockets) {
  const started = performance.now();
  await withTimeout(
    pool(cookies.length, options.concurrency, async (i) => {
      sockets[i] = await connectSocket(base, { cookie: cookies[i] }, 20_000);
    }),
    PHASE_TIMEOUT_MS,
    'handshakes',
  );
  return cookies.length / ((performance.now() - started) / 1000);
}

/**
 * Every session ends in the same second: its idle interval set from a message, then no traffic.
 * Resolves once the last deadline is 5 s past: each socket's close after its deadline, and what it was told.
 */
async function expireAll(sockets) {
  const n = sockets.length;
  const at = Math.ceil((Date.now() + EXPIRY_LEAD_MS) / 1000) * 1000;
  const deadlines = new Array(n);
  const closedAt = new Array(n);
  const reasons = new Map();
  for (const [i, socket] of sockets.entries()) {
    socket.once('session:destroyed', ({ reason }) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1));
    socket.once('disconnect', () => (closedAt[i] = Date.now()));
  }
  await withTimeout(
    pool(n, options.concurrency, async (i) => {
      deadlines[i] = (await sockets[i].timeout(20_000).emitWithAck('expire-at', { at })).deadline;
    }),
    EXPIRY_LEAD_MS,
    'setting the deadlines',
  );
  const lastDeadline = Math.max(...deadlines);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastDeadline - Date.now()) + 5000));
  const lags = deadlines.map((deadline, i) => (closedAt[i] === undefined ? undefined : closedAt[i] - deadline)).filter((lag) => lag !== undefined);
  lags.sort((a, b) => a - b);
  return {
    lags,
    reasons,
    deadlinesSpreadMs: lastDeadline - Math.min(...deadlines),
    firstDeadline: Math.min(...deadlines),
    withinTwoSeconds: lags.filter((lag) => lag >= 0 && lag <= 2000).length,
    lagP99Ms: lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))],
    lastClosedAt: Math.max(lastDeadline, ...closedAt.filter((at) => at !== undefined)),
  };
}

export async function runSocketsScale() {
  const redis = await startRedisServer({ args: ['--notify-keyspace-events', 'Egx'] });
  const info = new Redis(redis.url);
  const port = await freePort();
  const snapshotDir = options['heap-snapshots'] === undefined ? undefined : resolvePath(options['heap-snapshots']);
  if (snapshotDir !== undefined) mkdirSync(snapshotDir, { recursive: true });
  const serverArgs = [String(port), redis.url, ...(snapshotDir === undefined ? [] : [snapshotDir])];
  const profileDir = options.profile === undefined ? undefined : resolvePath(options.profile);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  // --cpu-prof is not allowed in NODE_OPTIONS: it goes before the script.
  const [script, args] = profileDir === undefined ? [SERVER, serverArgs] : ['--cpu-prof', [`--cpu-prof-dir=${profileDir}`, SERVER, ...serverArgs]];
  const server = await startNodeServer(script, args, { env: { NODE_OPTIONS: '--expose-gc' }, timeoutMs: 60_000 });
  const base = `http://127.0.0.1:${port}`;
  const sockets = [];
  const n = options.sockets;
  const warmupN = options['warmup-sockets'];
  try {
    const coldBaseline = await stats(base);
    await heapSnapshot(base, 'cold');
    // A small cycle first, the same steps as the measured ones: what it leaves is code compiled and
    // tables grown (warm), which the first cycle would otherwise count as memory it kept.
    if (warmupN > 0) {
      const warmup = [];
      try {
        const { cookies: warmupCookies } = await logIn(base, warmupN);
        await openSockets(base, warmupCookies, warmup);
        await expireAll(warmup);
      } finally {
        for (const socket of warmup) socket?.close();
      }
    }
    const baseline = await stats(base);
    await heapSnapshot(base, 'warm');
    const redisBaseline = await redisInfo(info);

    // Sessions, without sockets: what a session costs the instance (nothing kept) and Redis.
    const { cookies, perSecond: loginsPerSecond } = await logIn(base, n);
    const afterSessions = await stats(base);
    const redisAfterSessions = await redisInfo(info);

    // Sockets, one per session.
    const handshakesPerSecond = await openSockets(base, cookies, sockets);
    const afterSockets = await stats(base);
    const redisAfterSockets = await redisInfo(info);

    // A steady chat: every socket sends one message per interval, spread evenly. The instance's
    // commands are counted with MONITOR, which marks those a script runs inside Redis (INFO's
    // counters include them): what is left is what the instance sent.
    const intervalMs = options['chat-interval'] * 1000;
    const chatMs = options['chat-seconds'] * 1000;
    const monitor = await info.monitor();
    const sent = new Map();
    monitor.on('monitor', (_time, args, source) => {
      if (source !== 'lua') sent.set(args[0].toLowerCase(), (sent.get(args[0].toLowerCase()) ?? 0) + 1);
    });
    const cpuBefore = (await stats(base)).cpuMicros;
    let acked = 0;
    const timers = sockets.map((socket, i) =>
      setTimeout(
        () => {
          const send = () => socket.timeout(10_000).emit('chat', { text: 'hello' }, (error) => void (error || acked++));
          send();
          timers[i] = setInterval(send, intervalMs);
        },
        (i / n) * intervalMs,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, chatMs));
    for (const timer of timers) clearInterval(timer);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the last acks
    monitor.disconnect();
    const cpuAfter = (await stats(base)).cpuMicros;
    const commands = [...sent.values()].reduce((sum, calls) => sum + calls, 0);
    const chat = {
      messagesPerSecond: acked / (chatMs / 1000),
      redisCommandsPerSecond: commands / (chatMs / 1000),
      redisCommandsPerMessage: commands / acked,
      commandsByName: Object.fromEntries(sent),
      serverCpuMicrosPerMessage: (cpuAfter - cpuBefore) / acked,
    };

    const { lags, reasons, deadlinesSpreadMs, withinTwoSeconds, lagP99Ms, firstDeadline, lastClosedAt } = await expireAll(sockets);
    // The mass expiry's window in the monotonic clock that V8's profile samples use.
    const expiryWindow = { from: monotonicMicrosAt(firstDeadline), to: monotonicMicrosAt(lastClosedAt) };
    let lastEndedAt = lastClosedAt;
    const early = lags.filter((lag) => lag < 0).length;
    const afterExpiry = await stats(base);
    const redisAfterExpiry = await redisInfo(info);
    await heapSnapshot(base, 'after-expiry-1');
    // Again, without the chat: a heap that ends where the first cycle's did is warm (code
    // compiled, tables grown), not holding on to earlier cycles' sockets or sessions.
    const laterCycles = [];
    for (let cycle = 2; cycle <= options.cycles; cycle++) {
      const again = [];
      const { cookies: moreCookies } = await logIn(base, n);
      await openSockets(base, moreCookies, again);
      const withSocketsAgain = await stats(base);
      const cycleExpiry = await expireAll(again);
      const afterAgain = await stats(base);
      lastEndedAt = cycleExpiry.lastClosedAt;
      await heapSnapshot(base, `after-expiry-${cycle}`);
      laterCycles.push({
        closed: cycleExpiry.lags.length,
        withinTwoSeconds: cycleExpiry.withinTwoSeconds,
        lagP99Ms: cycleExpiry.lagP99Ms,
        withSocketsHeap: withSocketsAgain.heapUsed,
        afterExpiryHeap: afterAgain.heapUsed,
        sessionsWithSocketsLeft: afterAgain.sessionsWithSockets,
      });
      for (const socket of again) socket.close();
    }
    // Once the last cycle's ended ids are past the window in which the library remembers them (to
    // report an end told twice once): what is left is code and grown tables, no session of any cycle.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastEndedAt + ENDED_IDS_WINDOW_MS - Date.now())));
    const afterWindow = await stats(base);
    await heapSnapshot(base, 'after-window');
    const expiry = {
      deadlinesSpreadMs,
      closed: lags.length,
      missed: n - lags.length,
      early,
      withinTwoSeconds,
      lagP50Ms: median(lags),
      lagP99Ms,
      lagMaxMs: lags.at(-1),
      destroyedExpired: reasons.get('expired') ?? 0,
      expiredEvents: afterExpiry.events.expired - baseline.events.expired, // not the warm-up's
      sessionsWithSocketsLeft: afterExpiry.sessionsWithSockets,
    };

    const perSession = {
      instanceHeapBytes: (afterSessions.heapUsed - baseline.heapUsed) / n,
      redisBytes: (redisAfterSessions.memory - redisBaseline.memory) / n,
    };
    const perSocket = {
      instanceHeapBytes: (afterSockets.heapUsed - afterSessions.heapUsed) / n,
      instanceRssBytes: (afterSockets.rss - afterSessions.rss) / n,
      redisBytes: (redisAfterSockets.memory - redisAfterSessions.memory) / n,
    };
    const memory = {
      warmupSockets: warmupN,
      coldBaselineHeap: coldBaseline.heapUsed,
      baselineHeap: baseline.heapUsed,
      withSocketsHeap: afterSockets.heapUsed,
      afterExpiryHeap: afterExpiry.heapUsed,
      afterWindowHeap: afterWindow.heapUsed,
      coldBaselineRss: coldBaseline.rss,
      baselineRss: baseline.rss,
      afterExpiryRss: afterExpiry.rss,
      redisAfterExpiry: redisAfterExpiry.memory,
      redisBaseline: redisBaseline.memory,
    };

    console.log(`\n${n} sockets on one instance, each under its own session (loopback, one Redis)`);
    printTable(
      ['figure', 'value'],
      [
        ['logins per second (50 at a time)', loginsPerSecond.toFixed(0)],
        [`handshakes per second (${options.concurrency} at a time)`, handshakesPerSecond.toFixed(0)],
        ['instance heap per session without a socket (bytes)', perSession.instanceHeapBytes.toFixed(0)],
        ['Redis memory per session (bytes)', perSession.redisBytes.toFixed(0)],
        ['instance heap per socket (bytes)', perSocket.instanceHeapBytes.toFixed(0)],
        ['instance RSS per socket (bytes)', perSocket.instanceRssBytes.toFixed(0)],
        ['Redis memory per socket (bytes)', perSocket.redisBytes.toFixed(0)],
        [`chat: messages per second (1 per socket every ${options['chat-interval']} s)`, chat.messagesPerSecond.toFixed(0)],
        ['chat: Redis commands per second', chat.redisCommandsPerSecond.toFixed(1)],
        ['chat: Redis commands per message', chat.redisCommandsPerMessage.toFixed(3)],
        [
          'chat: commands by name',
          Object.entries(chat.commandsByName)
            .map(([name, calls]) => `${name} ${calls}`)
            .join(', '),
        ],
        ['chat: server CPU per message (us)', chat.serverCpuMicrosPerMessage.toFixed(0)],
        ['expiry: deadlines spread over (ms)', String(expiry.deadlinesSpreadMs)],
        ['expiry: sockets closed / missed / early', `${expiry.closed} / ${expiry.missed} / ${expiry.early}`],
        ['expiry: closed within 2 s of their deadline', String(expiry.withinTwoSeconds)],
        ['expiry: close after deadline p50 / p99 / max (ms)', `${expiry.lagP50Ms} / ${expiry.lagP99Ms} / ${expiry.lagMaxMs}`],
        ["expiry: session:destroyed {reason:'expired'} received", String(expiry.destroyedExpired)],
        ['expiry: expired events on the instance', String(expiry.expiredEvents)],
        ['expiry: sessions with sockets left in the registry', String(expiry.sessionsWithSocketsLeft)],
        [`instance heap: cold baseline / warm baseline (after ${warmupN} sockets) (MB)`, `${mb(memory.coldBaselineHeap)} / ${mb(memory.baselineHeap)}`],
        [
          'instance heap: warm baseline / with sockets / after expiry (MB)',
          `${mb(memory.baselineHeap)} / ${mb(memory.withSocketsHeap)} / ${mb(memory.afterExpiryHeap)}`,
        ],
        ['instance heap: after expiry minus warm baseline (MB)', mb(memory.afterExpiryHeap - memory.baselineHeap)],
        [
          'instance RSS: cold baseline / warm baseline / after expiry (MB)',
          `${mb(memory.coldBaselineRss)} / ${mb(memory.baselineRss)} / ${mb(memory.afterExpiryRss)}`,
        ],
        ['Redis memory: baseline / after expiry (MB)', `${mb(memory.redisBaseline)} / ${mb(memory.redisAfterExpiry)}`],
        ...laterCycles.flatMap((cycle, i) => [
          [`cycle ${i + 2}: sockets closed / within 2 s / p99 (ms)`, `${cycle.closed} / ${cycle.withinTwoSeconds} / ${cycle.lagP99Ms}`],
          [
            `cycle ${i + 2}: heap with sockets / after expiry (MB); registry left`,
            `${mb(cycle.withSocketsHeap)} / ${mb(cycle.afterExpiryHeap)}; ${cycle.sessionsWithSocketsLeft}`,
          ],
          [`cycle ${i + 2}: heap after expiry minus warm baseline (MB)`, mb(cycle.afterExpiryHeap - memory.baselineHeap)],
        ]),
        [`instance heap ${ENDED_IDS_WINDOW_MS / 1000} s after the last close (ended ids forgotten) (MB)`, mb(memory.afterWindowHeap)],
        [`instance heap ${ENDED_IDS_WINDOW_MS / 1000} s after the last close minus warm baseline (MB)`, mb(memory.afterWindowHeap - memory.baselineHeap)],
      ],
    );
    let expiryProfile;
    if (profileDir !== undefined) {
      for (const socket of sockets) socket?.close();
      await server.stop(); // the profile is written on exit
      expiryProfile = printExpiryProfile(profileDir, expiryWindow, expiry.closed);
    }
    return { options, loginsPerSecond, handshakesPerSecond, perSession, perSocket, chat, expiry, memory, laterCycles, expiryProfile };
  } finally {
    for (const socket of sockets) socket?.close();
    info.disconnect();
    await server.stop();
    await redis.stop();
  }
}

/** An epoch time (ms) in µs of the monotonic clock (process.hrtime's, which V8's samples share on Linux). */
function monotonicMicrosAt(epochMs) {
  return Number(process.hrtime.bigint() / 1000n) - (Date.now() - epochMs) * 1000;
}

/** The instance's CPU over the first mass expiry, µs per closed socket: by owner, then the library's top frames. */
function printExpiryProfile(folder, window, closed) {
  const { frames } = selfTimeByFrame(folder, window);
  const byOwner = new Map();
  for (const { micros, owner } of frames.values()) byOwner.set(owner, (byOwner.get(owner) ?? 0) + micros / closed);
  const owners = [...byOwner].filter(([owner]) => owner !== '(idle)').sort((a, b) => b[1] - a[1]);
  const busy = owners.reduce((sum, [, micros]) => sum + micros, 0);
  console.log(`\nInstance CPU from the first deadline to the last close (${((window.to - window.from) / 1000).toFixed(0)} ms), µs per closed socket`);
  printTable(
    ['owner', 'µs per socket'],
    [['sampled, not idle', busy.toFixed(1)], ...owners.filter(([, micros]) => micros >= 0.5).map(([owner, micros]) => [owner, micros.toFixed(1)])],
  );
  const top = [...frames].filter(([key]) => !key.startsWith('(idle)')).sort((a, b) => b[1].micros - a[1].micros);
  printTable(
    ['frame (top 25 by self time)', 'owner', 'µs per socket'],
    top.slice(0, 25).map(([key, { owner, micros }]) => [key, owner, (micros / closed).toFixed(1)]),
  );
  return { windowMs: (window.to - window.from) / 1000, busyMicrosPerSocket: busy, byOwner: Object.fromEntries(owners) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const summary = await runSocketsScale();
  writeResults('sockets-scale', summary);
  process.exit(0);
}
