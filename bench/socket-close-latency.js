// How soon are sockets closed when their session ends? With 100,000 live sessions in Redis and two
// app instances A and B (separate processes): sessions logged in over HTTP on A, each with a
// socket on B. Measures deadline-to-disconnect for idle expiry, and logout-to-disconnect (logout on
// A, socket on B). Usage: npm run bench -- socket-close [--sessions 200] [--live 100000]
import { Redis } from 'ioredis';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../test/harness/redis-server.js';
import { fillLiveSessions, percentile } from './lib/live-sessions.js';
import { flags, printTable, startNodeServer } from './lib/processes.js';
import { connectSocket } from './lib/ws-clients.js';
import { writeResults } from './lib/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, '../dist/bench/servers/soak-server.js');
const options = flags({ sessions: 200, live: 100_000 });
const TIMEOUT_SECONDS = 3;
const NAMESPACE = 'soak'; // the soak server's namespace

async function login(base) {
  const response = await fetch(`${base}/login`, { method: 'POST' });
  await response.arrayBuffer();
  const cookie = response.headers.getSetCookie()[0].split(';')[0];
  return { cookie, id: Buffer.from(cookie.slice('SESSION='.length), 'base64').toString('utf8') };
}

/** Resolves to the time the server closed the socket (after `session:destroyed`), or NaN after `limitMs`. */
function closedAt(socket, limitMs) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(NaN), limitMs);
    socket.once('disconnect', () => {
      clearTimeout(timer);
      resolve(Date.now());
    });
  });
}

function stats(label, latencies) {
  const delivered = latencies.filter(Number.isFinite).sort((a, b) => a - b);
  return { label, count: latencies.length, missed: latencies.length - delivered.length, p50: percentile(delivered, 50), p99: percentile(delivered, 99), max: delivered.at(-1) };
}

async function measureExpiry(a, b, redis) {
  const sockets = [];
  for (let i = 0; i < options.sessions; i++) {
    const { cookie, id } = await login(a);
    sockets.push({ id, socket: await connectSocket(b, { cookie }, 10_000) });
  }
  // The handshake was the sessions' last access: their deadlines are in Redis.
  const pipeline = redis.pipeline();
  for (const { id } of sockets) pipeline.hget(`${NAMESPACE}:sessions:{${id}}`, 'lastAccessedTime');
  const lastAccess = (await pipeline.exec()).map(([, value]) => Number(value));
  const closes = await Promise.all(sockets.map(({ socket }) => closedAt(socket, TIMEOUT_SECONDS * 1000 + 15_000)));
  for (const { socket } of sockets) socket.close();
  return stats('idle expiry: deadline -> socket closed on B', closes.map((at, i) => at - (lastAccess[i] + TIMEOUT_SECONDS * 1000)));
}

async function measureLogout(a, b) {
  const latencies = [];
  for (let i = 0; i < options.sessions; i++) {
    const { cookie } = await login(a);
    const socket = await connectSocket(b, { cookie }, 10_000);
    const closed = closedAt(socket, 5000);
    const started = Date.now();
    const response = await fetch(`${a}/logout`, { method: 'POST', headers: { cookie } });
    await response.arrayBuffer();
    latencies.push((await closed) - started);
    socket.close();
  }
  return stats('logout on A -> socket closed on B', latencies);
}

export async function runSocketCloseLatency() {
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
  const servers = [];
  try {
    const keys = await fillLiveSessions(redisServer.url, NAMESPACE, options.live);
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      servers.push({ port, process: await startNodeServer(SERVER, [String(port), redisServer.url], { env: { SESSION_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS) } }) });
    }
    const [a, b] = servers.map((server) => `http://127.0.0.1:${server.port}`);
    const rows = [await measureExpiry(a, b, redis), await measureLogout(a, b)];
    console.log(`\nSocket close latency (${keys} keys in Redis, ${options.sessions} sessions each, ${TIMEOUT_SECONDS} s idle interval)`);
    printTable(['what', 'sessions', 'missed', 'p50 ms', 'p99 ms', 'max ms'], rows.map((r) => [r.label, r.count, r.missed, r.p50, r.p99, r.max]));
    return { keys, rows };
  } finally {
    await Promise.all(servers.map((server) => server.process.stop()));
    await redis.quit();
    await redisServer.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runSocketCloseLatency();
  writeResults('socket-close-latency', result);
}
