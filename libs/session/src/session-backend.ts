import { Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { SessionSettings } from './core/http-session.js';
import type { SessionEvents } from './core/session-events.js';
import { SessionRepository } from './core/session-repository.js';
import { InMemorySessionRepository } from './memory/in-memory-session-repository.js';
import { ExpirySweeper } from './redis/expiry-sweeper.js';
import { closeRedis, connectRedis, isClusterClient, type RedisConnection } from './redis/redis-connection.js';
import { RedisEventListener } from './redis/redis-event-listener.js';
import { RedisKeys } from './redis/redis-keys.js';
import { assertRedisPermissions, checkRedisPermissionsWhenReady } from './redis/redis-permissions.js';
import { assertRedisReachable } from './redis/redis-reachability.js';
import { RedisSessionRepository } from './redis/redis-session-repository.js';
import { LOGGER_CONTEXT } from './session.constants.js';
import type { ResolvedSessionOptions } from './session-options.js';

/**
 * The running store: the repository the options ask for, and what keeps it working (the Redis
 * connection, the expiry sweeper, the event listener). Started before the app listens, stopped
 * by `app.close()`, so that a test suite exits by itself.
 */
export class SessionBackend implements OnModuleDestroy {
  readonly repository: SessionRepository;
  readonly #connection?: RedisConnection;
  readonly #sweeper?: ExpirySweeper;
  readonly #listener?: RedisEventListener;
  /** The events of a repository given as the `store` option, forwarded to SessionEvents. */
  readonly #forwarded?: Subscription;
  /** Calls off the permission check still waiting for Redis (without requireRedisAtStartup). */
  #cancelPermissionCheck?: () => void;

  private constructor(
    private readonly options: ResolvedSessionOptions,
    private readonly events: SessionEvents,
  ) {
    let store = options.store;
    if (store === 'memory') {
      new Logger(LOGGER_CONTEXT).log('Sessions are kept in this process\'s memory (store: "memory"); use Redis to share them between instances');
      // Built as a user would build it, and its events forwarded as a given store's: one path for both.
      store = new InMemorySessionRepository({
        maxInactiveIntervalInSeconds: options.maxInactiveIntervalInSeconds,
        flushMode: options.flushMode,
        saveMode: options.saveMode,
        serializer: options.serializer,
        maxAttributeBytes: options.maxAttributeBytes,
        touchIntervalSeconds: options.touchIntervalMs / 1000,
        maxSessionLifetimeSeconds: options.maxSessionLifetimeSeconds,
        maximumSessions: options.maximumSessions,
      });
    }
    if (store instanceof SessionRepository) {
      this.repository = store;
      // Values only: the store's completion (the in-memory one's close()) is not SessionEvents' own, which onModuleDestroy completes.
      this.#forwarded = store.events?.subscribe((event) => events.emit(event));
      return;
    }
    const settings: SessionSettings = {
      flushMode: options.flushMode,
      saveMode: options.saveMode,
      serializer: options.serializer,
      maxAttributeBytes: options.maxAttributeBytes,
      touchIntervalMs: options.touchIntervalMs,
      maxSessionLifetimeSeconds: options.maxSessionLifetimeSeconds,
      maximumSessions: options.maximumSessions,
      waitForReplicas: options.waitForReplicas,
    };
    this.#connection = connectRedis(options.redis, options.commandTimeoutMs);
    const isCluster = isClusterClient(this.#connection.client);
    const keys = new RedisKeys(options.redisNamespace, isCluster ? 16 : 1);
    const repository = new RedisSessionRepository(this.#connection.client, keys, settings, options.maxInactiveIntervalInSeconds, options.commandTimeoutMs);
    this.repository = repository;
    this.#sweeper = new ExpirySweeper(repository, options.sweepIntervalMs);
    this.#listener = new RedisEventListener(repository, events, options.configureKeyspaceNotifications);
  }

  /** Creates the backend and waits (bounded) for its event subscriptions. */
  static async start(options: ResolvedSessionOptions, events: SessionEvents): Promise<SessionBackend> {
    const backend = new SessionBackend(options, events);
    const permissionNeeds = { migrationPrefix: options.migrateFromExpressSession?.prefix };
    if (backend.#connection && options.requireRedisAtStartup) {
      try {
        await assertRedisReachable(backend.#connection.client, options.commandTimeoutMs);
        await assertRedisPermissions(backend.repository as RedisSessionRepository, permissionNeeds);
      } catch (error) {
        // Nothing else is started yet; a client of our own would otherwise retry forever and hold the process open.
        if (backend.#connection.owned) backend.#connection.client.disconnect();
        throw error;
      }
    }
    let permissionsChecked: Promise<void> | undefined;
    if (backend.#connection && !options.requireRedisAtStartup) {
      // Within the wait below when Redis is up, so that the check's EVAL is done by the time the app serves.
      const check = checkRedisPermissionsWhenReady(backend.repository as RedisSessionRepository, permissionNeeds);
      backend.#cancelPermissionCheck = check.cancel;
      permissionsChecked = check.checked;
    }
    if (backend.#listener) {
      // Redis may be down at start-up: the app still starts, and subscriptions complete when it is back.
      const subscribed = backend.#listener.start().catch((error: unknown) => {
        new Logger(LOGGER_CONTEXT).warn(`Session event subscriptions pending: ${error instanceof Error ? error.message : String(error)}`);
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([subscribed, permissionsChecked]), new Promise((resolve) => (timer = setTimeout(resolve, options.commandTimeoutMs)))]);
      clearTimeout(timer);
      backend.#sweeper!.start();
    }
    return backend;
  }

  async onModuleDestroy(): Promise<void> {
    this.#cancelPermissionCheck?.();
    await this.#sweeper?.stop();
    await this.#listener?.stop();
    this.#forwarded?.unsubscribe();
    if (this.repository instanceof InMemorySessionRepository && this.options.store === 'memory') this.repository.close();
    if (this.#connection) await closeRedis(this.#connection, this.options.commandTimeoutMs);
    this.events.complete();
  }
}
