import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';

/** The suite's shared Redis (started by the global setup). */
export function sharedRedisUrl(): string {
  const url = process.env.SESSION_TEST_REDIS_URL;
  if (!url) throw new Error('SESSION_TEST_REDIS_URL is not set: run the tests with `npm test` (the global setup starts Redis)');
  return url;
}

/** A namespace no other test uses, so that tests sharing the Redis never see each other's keys. */
export function uniqueNamespace(label = 'test'): string {
  return `${label}:${randomBytes(4).toString('hex')}`;
}

export function newClient(url = sharedRedisUrl()): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
}
