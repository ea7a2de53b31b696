// Shared by the latency benchmarks: a store full of live sessions, and percentiles.
import { Redis } from 'ioredis';
import { generateSessionId } from 'nestjs-redis-session';

const FILL_BATCH = 1_000;

/** Writes `count` long-lived sessions in the library's layout (hash + TTL + expiry-index entry), pipelined. */
export async function fillLiveSessions(url, namespace, count) {
  const client = new Redis(url);
  try {
    const now = Date.now();
    const intervalSeconds = 3600;
    for (let written = 0; written < count; written += FILL_BATCH) {
      const pipeline = client.pipeline();
      for (let i = written; i < Math.min(count, written + FILL_BATCH); i++) {
        const id = generateSessionId();
        const key = `${namespace}:sessions:{${id}}`;
        pipeline.hset(key, 'creationTime', now, 'lastAccessedTime', now, 'maxInactiveInterval', intervalSeconds, 'sessionAttr:user', JSON.stringify(`user${i}`));
        pipeline.pexpire(key, intervalSeconds * 1000);
        pipeline.zadd(`${namespace}:expirations:{0}`, now + intervalSeconds * 1000, id);
      }
      await pipeline.exec();
    }
    return Number(await client.dbsize());
  } finally {
    client.disconnect();
  }
}

/** The p-th percentile of ascending-sorted values (nearest rank). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
