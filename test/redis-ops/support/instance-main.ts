import { startWsFixtureApp } from '../../websocket/fixture-app.js';

/**
 * One app instance as a process of its own (so that a test can SIGKILL it): the Socket.IO fixture
 * app on REDIS_URL, under SESSION_NAMESPACE, sessions idle out after MAX_INACTIVE_SECONDS. Prints
 * `LISTENING <port>` once it serves.
 */
const { app, url } = await startWsFixtureApp({
  redis: process.env.REDIS_URL!,
  redisNamespace: process.env.SESSION_NAMESPACE!,
  maxInactiveIntervalInSeconds: Number(process.env.MAX_INACTIVE_SECONDS),
  sweepIntervalMs: 100,
});
app.enableShutdownHooks();
process.stdout.write(`LISTENING ${new URL(url).port}\n`);
