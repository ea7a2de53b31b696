import base from './jest.config.js';

/**
 * The cluster run (`npm run test:cluster`): with SESSION_TEST_REDIS=cluster the global setup starts
 * a 3-master Redis Cluster instead of the standalone server, and these suites, which take their
 * Redis from test/harness/redis.ts (sessionRedisOption(), sessionRedisClient()), run on it as they
 * are. A suite left out here still runs in `npm test`; one that asks for the standalone server
 * (sharedRedisUrl()) in this run fails loudly rather than passing on the wrong Redis.
 *
 * Standalone only, and why:
 * - test/http/round-trips, test/websocket/touch-budget: count commands with INFO on a private server;
 * - test/http/malformed-ids, test/fuzz/*: watch a private server with MONITOR;
 * - test/http/redis-unavailable, test/events/redis-restart, lifecycle: stop or restart a private server;
 * - test/events/config-forbidden, test/websocket/ended-session: a private server configured apart;
 * - test/session/redis-session-repository: a private server's numbered databases (a Cluster has only 0);
 * - test/events/cluster, test/session/session-repository.cluster: start a private Cluster of their own;
 * - test/chat/*: the sample app takes one standalone REDIS_URL;
 * - test/events/cross-instance, principal-index, event-emitter: still on sharedRedisUrl() (events on a
 *   Cluster: test/events/cluster);
 * - test/session unit specs, test/events/memory-store: no Redis.
 */
export default {
  ...base,
  testMatch: [
    '<rootDir>/test/session/session-repository.contract.spec.ts',
    '<rootDir>/test/session/smoke.spec.ts',
    '<rootDir>/test/http/session-http.e2e.spec.ts',
    '<rootDir>/test/http/concurrency.e2e.spec.ts',
    '<rootDir>/test/http/cookie-attributes.e2e.spec.ts',
    '<rootDir>/test/http/header-resolver.e2e.spec.ts',
    '<rootDir>/test/http/idle-expiry.e2e.spec.ts',
    '<rootDir>/test/http/module-options.e2e.spec.ts',
    '<rootDir>/test/websocket/handshake.e2e.spec.ts',
    '<rootDir>/test/websocket/session-io-adapter.e2e.spec.ts',
    '<rootDir>/test/websocket/namespaces.e2e.spec.ts',
    '<rootDir>/test/websocket/keep-alive.e2e.spec.ts',
    '<rootDir>/test/websocket/idle-expiry.e2e.spec.ts',
    '<rootDir>/test/websocket/many-sockets.e2e.spec.ts',
    '<rootDir>/test/websocket/shutdown.e2e.spec.ts',
    '<rootDir>/test/websocket/session-cache.e2e.spec.ts',
    '<rootDir>/test/account/session-registry.e2e.spec.ts',
    '<rootDir>/test/account/absolute-lifetime.e2e.spec.ts',
    '<rootDir>/test/account/maximum-sessions.e2e.spec.ts',
    '<rootDir>/test/account/remember-me.e2e.spec.ts',
    '<rootDir>/test/express-session/passport.e2e.spec.ts',
    '<rootDir>/test/express-session/compat.e2e.spec.ts',
    '<rootDir>/test/express-session/fastify.e2e.spec.ts',
    '<rootDir>/test/express-session/migration.e2e.spec.ts',
    '<rootDir>/test/express-session/fastify-passport.e2e.spec.ts',
  ],
};
