// Redis memory per session: 100,000 sessions with two small attributes, INFO memory delta, for this
// library's layout (hash + expiry-index entry) and for connect-redis (one JSON string); each also
// with what a "your devices" page needs (a browser's User-Agent and an address): ours records them
// beside Spring's fields, an express-session app would keep them in its session.
// Usage: npm run bench -- memory [--sessions 100000]
import { RedisStore } from 'connect-redis';
import { Redis } from 'ioredis';
import { FlushMode, JsonSessionSerializer, SaveMode } from 'nestjs-redis-session';
import { RedisSessionRepository } from '../libs/session/dist/redis/redis-session-repository.js';
import { RedisKeys } from '../libs/session/dist/redis/redis-keys.js';
import { compactUserAgent } from '../libs/session/dist/account/client-metadata.js';
import { randomBytes } from 'node:crypto';
import { startRedisServer } from '../test/harness/redis-server.js';
import { flags, printTable } from './lib/processes.js';
import { writeResults } from './lib/results.js';

const options = flags({ sessions: 100_000 });
const BATCH = 1000;

async function usedMemory(client) {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

async function measure(label, fill) {
  const redis = await startRedisServer();
  const client = new Redis(redis.url, { enableAutoPipelining: true });
  try {
    const before = await usedMemory(client);
    await fill(client);
    const after = await usedMemory(client);
    const keys = await client.dbsize();
    return { label, bytesPerSession: (after - before) / options.sessions, keys };
  } finally {
    await client.quit();
    await redis.stop();
  }
}

/** A current desktop Chrome's User-Agent (103 characters), as the HTTP layer records it (compacted), and a documentation address. */
const USER_AGENT = compactUserAgent('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36');
const IP = '203.0.113.7';

async function fillOurs(client, withClient = false) {
  const settings = { flushMode: FlushMode.ON_SAVE, saveMode: SaveMode.ON_SET_ATTRIBUTE, serializer: new JsonSessionSerializer(), maxAttributeBytes: 1 << 20 };
  const repository = new RedisSessionRepository(client, new RedisKeys('spring:session', 1), settings, 1800);
  for (let done = 0; done < options.sessions; done += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, options.sessions - done) }, () => {
        const session = repository.createSession();
        if (withClient) session.recordClient(USER_AGENT, IP); // as the HTTP layer does at creation and login
        session.set('user', 'alice');
        session.set('counter', 1);
        return repository.save(session);
      }),
    );
  }
}

async function fillConnectRedis(client, withClient = false) {
  const store = new RedisStore({ client });
  const cookie = { originalMaxAge: 1_800_000, expires: new Date(Date.now() + 1_800_000), httpOnly: true, path: '/' };
  for (let done = 0; done < options.sessions; done += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, options.sessions - done) }, () =>
        // express-session's own ids: uid-safe(24), 32 characters of base64url.
        store.set(randomBytes(24).toString('base64url'), {
          cookie,
          user: 'alice',
          counter: 1,
          ...(withClient ? { userAgent: USER_AGENT, ip: IP } : {}),
        }),
      ),
    );
  }
}

export async function runMemory() {
  const ours = await measure('nestjs-redis-session (hash + expiry index)', (client) => fillOurs(client));
  const anchor = await measure('connect-redis (JSON string)', (client) => fillConnectRedis(client));
  const oursWithClient = await measure('nestjs-redis-session + device (User-Agent, ip)', (client) => fillOurs(client, true));
  const anchorWithClient = await measure('connect-redis + the same in its session', (client) => fillConnectRedis(client, true));
  console.log(`\nRedis memory per session (${options.sessions} sessions, two small attributes, INFO used_memory delta)`);
  printTable(
    ['layout', 'bytes/session', 'keys', 'x connect-redis', 'x connect-redis + device'],
    [ours, anchor, oursWithClient, anchorWithClient].map((r) => [
      r.label,
      Math.round(r.bytesPerSession),
      r.keys,
      (r.bytesPerSession / anchor.bytesPerSession).toFixed(2),
      (r.bytesPerSession / anchorWithClient.bytesPerSession).toFixed(2),
    ]),
  );
  return {
    ours,
    connectRedis: anchor,
    ratio: ours.bytesPerSession / anchor.bytesPerSession,
    oursWithClient,
    connectRedisWithClient: anchorWithClient,
    ratioWithClient: oursWithClient.bytesPerSession / anchorWithClient.bytesPerSession,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runMemory();
  writeResults('memory', results);
}
