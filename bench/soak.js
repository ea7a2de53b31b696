// Soak: two instances on one Redis, virtual users logging in, reading, writing, chatting over
// Socket.IO and logging out, for a bounded time on loopback. Reports errors (must be 0), lost
// writes (must be 0) and memory at start and end. Usage: npm run bench -- soak [--duration 300] [--users 40]
import { Redis } from 'ioredis';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../test/harness/redis-server.js';
import { flags, printTable, startNodeServer } from './lib/processes.js';
import { connectSocket } from './lib/ws-clients.js';
import { writeResults } from './lib/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, '../dist/bench/servers/soak-server.js');
const options = flags({ duration: 300, users: 40, writes: 20, warmup: 20 });

const counts = { logins: 0, reads: 0, writes: 0, messages: 0, logouts: 0, closedOnLogout: 0 };
const errors = [];
let lostWrites = 0;
const fail = (what) => {
  if (errors.length < 20) errors.push(what);
  else errors.length++;
};

async function http(base, method, path, cookie) {
  const response = await fetch(base + path, { method, headers: cookie ? { cookie } : {} });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${path} -> ${response.status} ${text.slice(0, 100)}`);
  return { body: text ? JSON.parse(text) : undefined, setCookie: response.headers.getSetCookie()[0] };
}

/** One user's life, again and again until the deadline: each step alternates between the instances. */
async function virtualUser(bases, deadline) {
  let turn = Math.floor(Math.random() * 2);
  const next = () => bases[turn++ % 2];
  while (Date.now() < deadline) {
    let socket;
    try {
      const login = await http(next(), 'POST', '/login');
      counts.logins++;
      const cookie = login.setCookie.split(';')[0];
      socket = await connectSocket(next(), { cookie }, 5000);
      const destroyed = new Promise((resolve) => socket.once('session:destroyed', resolve));
      let expected = 0;
      for (let i = 0; i < options.writes && Date.now() < deadline; i++) {
        const written = await http(next(), 'POST', '/write', cookie);
        counts.writes++;
        expected++;
        if (written.body.counter !== expected) fail(`write returned ${written.body.counter}, expected ${expected}`);
        const reply = await socket.timeout(5000).emitWithAck('chat', `message ${i}`);
        counts.messages++;
        if (reply?.echo !== `message ${i}`) fail(`bad ack ${JSON.stringify(reply)}`);
        if (i % 5 === 0) {
          const who = await socket.timeout(5000).emitWithAck('whoami');
          if (who?.user !== login.body.user) fail(`whoami gave ${JSON.stringify(who)}`);
        }
      }
      const read = await http(next(), 'GET', '/read', cookie);
      counts.reads++;
      if (read.body.counter !== expected) lostWrites += Math.max(0, expected - read.body.counter);
      await http(next(), 'POST', '/logout', cookie);
      counts.logouts++;
      const closed = await Promise.race([destroyed.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 2000))]);
      if (closed) counts.closedOnLogout++;
      else fail('socket not closed within 2 s of logout');
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    } finally {
      socket?.close();
    }
  }
}

async function memory(bases, redis) {
  const instances = await Promise.all(bases.map(async (base) => (await http(base, 'GET', '/stats')).body));
  const info = await redis.info('memory');
  return { instances, redisUsedMemory: Number(/used_memory:(\d+)/.exec(info)[1]) };
}

export async function runSoak() {
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
  const servers = [];
  try {
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      servers.push({ port, process: await startNodeServer(SERVER, [String(port), redisServer.url], { env: { NODE_OPTIONS: '--expose-gc' } }) });
    }
    const bases = servers.map((server) => `http://127.0.0.1:${server.port}`);
    const started = Date.now();
    const deadline = started + options.duration * 1000;
    const users = Array.from({ length: options.users }, () => virtualUser(bases, deadline));
    // Memory once warm, and at the end (after a full GC in each instance).
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.warmup, options.duration / 2) * 1000));
    const start = await memory(bases, redis);
    await Promise.all(users);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // let the last logouts' events settle
    const end = await memory(bases, redis);
    const sessionsLeft = (await redis.keys('soak:sessions:*')).length;
    return { options, seconds: (Date.now() - started) / 1000, counts, errors: errors.length, errorSamples: errors.filter(Boolean), lostWrites, sessionsLeft, start, end };
  } finally {
    await Promise.all(servers.map((server) => server.process.stop()));
    await redis.quit();
    await redisServer.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runSoak();
  const mb = (bytes) => (bytes / 1048576).toFixed(1);
  console.log(`\nSoak: ${result.options.users} users on 2 instances for ${result.seconds.toFixed(0)} s`);
  printTable(['figure', 'value'], [
    ['logins', result.counts.logins],
    ['writes', result.counts.writes],
    ['socket messages', result.counts.messages],
    ['logouts (sockets closed)', `${result.counts.logouts} (${result.counts.closedOnLogout})`],
    ['errors', result.errors],
    ['lost writes', result.lostWrites],
    ['sessions left in Redis', result.sessionsLeft],
    ...result.start.instances.map((s, i) => [`instance ${i + 1} heap MB start -> end`, `${mb(s.heapUsed)} -> ${mb(result.end.instances[i].heapUsed)}`]),
    ...result.start.instances.map((s, i) => [`instance ${i + 1} RSS MB start -> end`, `${mb(s.rss)} -> ${mb(result.end.instances[i].rss)}`]),
    ...result.end.instances.map((s, i) => [`instance ${i + 1} sessions with sockets at end`, s.sessionsWithSockets]),
    ['Redis used_memory MB start -> end', `${mb(result.start.redisUsedMemory)} -> ${mb(result.end.redisUsedMemory)}`],
  ]);
  if (result.errorSamples.length) console.log('error samples:', result.errorSamples.slice(0, 5));
  writeResults('soak', result);
  process.exit(result.errors === 0 && result.lostWrites === 0 ? 0 : 1);
}
