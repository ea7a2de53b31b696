import { startRedisServer } from './redis-server.js';

/** One shared standalone Redis for the suite; its URL reaches every test worker through the environment. */
export default async function globalSetup() {
  const server = await startRedisServer({ args: ['--notify-keyspace-events', 'Egx'] });
  globalThis.__SESSION_TEST_REDIS__ = server;
  process.env.SESSION_TEST_REDIS_URL = server.url;
}
