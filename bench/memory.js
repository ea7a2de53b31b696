// Redis memory per session: 100,000 sessions with two small attributes, INFO memory delta, for this
// library's layout (hash + expiry-index entry) and for connect-redis (one JSON string).
// Usage: npm run bench -- memory [--sessions 100000]
import { RedisStore } from 'connect-redis';
import { Redis } from 'ioredis';
import { FlushMode, JsonSessionSerializer, SaveMode } from 'nestjs-redis-session';
import { RedisSessionRepository } from '../libs/session/dist/redis/redis-session-repository.js';
import { RedisKeys } from '../libs/session/dist/redis/redis-keys.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '../test/harness/redis-server.js';
import { flags, printTable } from './lib/processes.js';

const here = dirname(fileURLToPath(import.meta.url));
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

async function fillOurs(client) {
  const settings = { flushMode: FlushMode.ON_SAVE, saveMode: SaveMode.ON_SET_ATTRIBUTE, serializer: new JsonSessionSerializer(), maxAttributeBytes: 1 << 20 };
  const repository = new RedisSessionRepository(client, new RedisKeys('spring:session', 1), settings, 1800);
  for (let done = 0; done < options.sessions; done += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, options.sessions - done) }, () => {
        const session = repository.createSession();
        session.set('user', 'alice');
        session.set('counter', 1);
        return repository.save(session);
      }),
    );
  }
}

async function fillConnectRedis(client) {
  const store = new RedisStore({ client });
  const cookie = { originalMaxAge: 1_800_000, expires: new Date(Date.now() + 1_800_000), httpOnly: true, path: '/' };
  for (let done = 0; done < options.sessions; done += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, options.sessions - done) }, () =>
        // express-session's own ids: uid-safe(24), 32 characters of base64url.
        store.set(randomBytes(24).toString('base64url'), { cookie, user: 'alice', counter: 1 }),
      ),
    );
  }
}

export async function runMemory() {
  const ours = await measure('nestjs-redis-session (hash + expiry index)', fillOurs);
  const anchor = await measure('connect-redis (JSON string)', fillConnectRedis);
  console.log(`\nRedis memory per session (${options.sessions} sessions, two small attributes, INFO used_memory delta)`);
  printTable(
    ['layout', 'bytes/session', 'keys', 'x connect-redis'],
    [ours, anchor].map((r) => [r.label, Math.round(r.bytesPerSession), r.keys, (r.bytesPerSession / anchor.bytesPerSession).toFixed(2)]),
  );
  return { ours, connectRedis: anchor, ratio: ours.bytesPerSession / anchor.bytesPerSession };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runMemory();
  const out = join(here, 'results/memory.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`\nWrote ${out}`);
}
