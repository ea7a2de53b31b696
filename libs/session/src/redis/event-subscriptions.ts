import { Logger } from '@nestjs/common';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { LOGGER_CONTEXT } from '../session.constants.js';
import { evictionWarning } from './eviction-policy.js';
import { DISCONNECT_TIMEOUT_MS, isClusterClient, type UndocumentedOptions } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** Flags we need: E (keyevent channels), g (generic: del), x (expired). */
const REQUIRED_FLAGS = ['E', 'g', 'x'];
/** Topology events after which a Cluster's set of masters may have changed. */
const TOPOLOGY_EVENTS = ['ready', 'refresh', '+node', '-node'];

export interface SubscriptionHandlers {
  /** A message on `<namespace>:event`. */
  onOwnMessage(message: string): void;
  /** A keyevent notification: a key (any key of the database) was deleted or expired. */
  onKeyEvent(event: 'del' | 'expired', key: string): void;
  /** Our own channel's subscription is in place (true), or lost (false): messages published meanwhile are missed. */
  onOwnChannel?(subscribed: boolean): void;
}

/**
 * Keeps this instance subscribed to what session events are made of, whatever happens to Redis:
 * - each connection subscribes on every (re)connect, rather than trusting ioredis' resubscription,
 *   which only repeats subscriptions that once succeeded (a module started while Redis was down
 *   would never subscribe at all);
 * - keyspace notifications are switched on again after each reconnect (a restarted Redis forgot them);
 * - on a Cluster, notifications are node-local: one subscriber per master, following the topology.
 */
export class EventSubscriptions {
  readonly #logger = new Logger(LOGGER_CONTEXT);
  readonly #warned = new Set<string>();
  /** Keyspace subscribers by node (`host:port`). */
  readonly #perNode = new Map<string, { subscriber: Redis; detach: () => void }>();
  /** Subscribers not tied to one node (standalone: the only one; Cluster: our own channel). */
  readonly #others: (Redis | Cluster)[] = [];
  /** Undoes what start() attached to the client it was given (which may be the user's own). */
  readonly #detach: (() => void)[] = [];
  #stopped = false;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly keys: RedisKeys,
    private readonly configureNotifications: boolean,
    private readonly handlers: SubscriptionHandlers,
  ) {}

  /** Resolves once the subscriptions are first in place; they are renewed after every reconnect. */
  start(): Promise<void> {
    if (isClusterClient(this.client)) return this.startOnCluster(this.client);
    const node = this.client as Redis;
    this.#detach.push(this.keepNotificationsOn(node));
    const subscriber = this.subscriberBeside(node);
    this.#others.push(subscriber);
    return this.subscribeOnEveryConnect(subscriber, node.options.db ?? 0, this.keys.eventChannel);
  }

  stop(): void {
    this.#stopped = true;
    for (const detach of this.#detach.splice(0)) detach();
    for (const [, { subscriber, detach }] of this.#perNode) {
      detach();
      subscriber.disconnect();
    }
    this.#perNode.clear();
    // Nothing to flush on a subscriber: close at once, even while it is reconnecting.
    for (const subscriber of this.#others.splice(0)) subscriber.disconnect();
  }

  /**
   * Our own messages are broadcast to every node: one cluster-level subscriber hears them (ioredis
   * moves it when its node goes). Keyspace notifications need a subscriber on each master.
   */
  private startOnCluster(cluster: Cluster): Promise<void> {
    const own = cluster.duplicate([], { lazyConnect: true });
    this.#others.push(own);
    own.on('error', () => undefined);
    own.on('message', (_channel: string, message: string) => this.handlers.onOwnMessage(message));
    const subscribeOwn = () => own.subscribe(this.keys.eventChannel).then(() => this.handlers.onOwnChannel?.(true));
    const ownSubscribed = new Promise<void>((resolve) => {
      own.on('ready', () => subscribeOwn().then(() => resolve(), (error: unknown) => this.warnSubscribeFailed(error)));
    });
    // ioredis moves the subscription to another node by itself when its node goes, silently: what is
    // published in between is missed. So a lost node counts as a lost subscription until it is renewed.
    own.on('-node', () => {
      if (this.#stopped) return;
      this.handlers.onOwnChannel?.(false);
      subscribeOwn().catch((error: unknown) => this.warnSubscribeFailed(error));
    });
    own.on('close', () => this.handlers.onOwnChannel?.(false));
    own.connect().catch(() => undefined); // retried by the cluster's own strategy

    const db = 0; // a Cluster has database 0 only
    const followMasters = () => {
      if (this.#stopped) return;
      const masters = new Map(cluster.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
      for (const [key, entry] of this.#perNode) {
        if (masters.has(key)) continue;
        entry.detach();
        entry.subscriber.disconnect();
        this.#perNode.delete(key);
      }
      for (const [key, node] of masters) {
        if (this.#perNode.has(key)) continue;
        // Its own reconnection: the pool's node connections give up at once and wait for a topology refresh.
        const subscriber = this.subscriberBeside(node, { retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000) });
        this.#perNode.set(key, { subscriber, detach: this.keepNotificationsOn(node) });
        void this.subscribeOnEveryConnect(subscriber, db);
      }
    };
    for (const event of TOPOLOGY_EVENTS) {
      cluster.on(event, followMasters);
      this.#detach.push(() => cluster.off(event, followMasters));
    }
    followMasters();
    return ownSubscribed;
  }

  private subscriberBeside(node: Redis, options: RedisOptions = {}): Redis {
    const overrides: RedisOptions & UndocumentedOptions = {
      ...options,
      lazyConnect: true,
      enableAutoPipelining: false,
      autoResubscribe: false,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    };
    const subscriber = node.duplicate(overrides);
    subscriber.on('error', () => undefined); // reconnects by itself; the main client logs connection errors
    const db = node.options.db ?? 0;
    const { del, expired } = this.keys.keyEventChannels(db);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === del) this.handlers.onKeyEvent('del', message);
      else if (channel === expired) this.handlers.onKeyEvent('expired', message);
      else this.handlers.onOwnMessage(message);
    });
    return subscriber;
  }

  private subscribeOnEveryConnect(subscriber: Redis, db: number, ownChannel?: string): Promise<void> {
    const { del, expired } = this.keys.keyEventChannels(db);
    const channels = ownChannel === undefined ? [del, expired] : [del, expired, ownChannel];
    if (ownChannel !== undefined) subscriber.on('close', () => this.handlers.onOwnChannel?.(false));
    return new Promise((resolve) => {
      subscriber.on('ready', () => {
        subscriber.subscribe(...channels).then(
          () => {
            if (ownChannel !== undefined) this.handlers.onOwnChannel?.(true);
            resolve();
          },
          (error: unknown) => this.warnSubscribeFailed(error),
        );
      });
      subscriber.connect().catch(() => undefined); // retried by the connection's own strategy
    });
  }

  /**
   * Applies the notification flags now and after every reconnect of `node`, and checks that the
   * node will not evict session keys; returns how to stop.
   */
  private keepNotificationsOn(node: Redis): () => void {
    const enable = () => {
      if (this.configureNotifications) void this.enableNotifications(node);
      void evictionWarning(node).then((warning) => warning && this.warnOnce('eviction', warning));
    };
    node.on('ready', enable);
    // 'wait': a lazy connection (a Cluster's pool) that the command itself will open.
    if (node.status === 'ready' || node.status === 'wait') enable();
    return () => node.off('ready', enable);
  }

  /** Adds the flags we need to the server's setting, keeping the ones it has. */
  private async enableNotifications(node: Redis): Promise<void> {
    try {
      const [, current = ''] = (await node.config('GET', 'notify-keyspace-events')) as string[];
      const expanded = current.includes('A') ? `${current}g$lshzxet` : current;
      const missing = REQUIRED_FLAGS.filter((flag) => !expanded.includes(flag));
      if (missing.length > 0) await node.config('SET', 'notify-keyspace-events', current + missing.join(''));
    } catch (error) {
      this.warnOnce(
        'config',
        `Could not enable keyspace notifications (${messageOf(error)}). ` +
          'Sessions still expire on time and their events still fire, but deletions made outside this library ' +
          '(e.g. an operator\'s DEL) go unnoticed until the session\'s deadline. To see them, set ' +
          '"notify-keyspace-events Egx" in the Redis server configuration (managed Redis: its parameter group).',
      );
    }
  }

  private warnSubscribeFailed(error: unknown): void {
    this.warnOnce('subscribe', `Could not subscribe to session events (will retry on reconnect): ${messageOf(error)}`);
  }

  /** Says it once per module: a problem that lasts must not flood the log. */
  private warnOnce(topic: string, message: string): void {
    if (this.#warned.has(topic)) return;
    this.#warned.add(topic);
    this.#logger.warn(message);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
