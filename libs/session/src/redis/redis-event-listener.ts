import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { SessionEvent, SessionEvents } from '../core/session-events.js';
import { isValidSessionId } from '../core/session-id.js';
import { announceSessionEnd } from './announce-session-end.js';
import { decodeEventMessage } from './session-event-message.js';
import type { RedisSessionRepository } from './redis-session-repository.js';

/** An ended session is remembered this long, so that its end is reported once whichever source tells first. */
const DEDUPE_WINDOW_MS = 30_000;
/** How long to wait for the instance that won an end's announcement before reporting it ourselves. */
const ANNOUNCEMENT_GRACE_MS = 1000;
/** Flags we need: K (keyspace channel), g (generic: del), x (expired). */
const REQUIRED_FLAGS = ['K', 'g', 'x'];

/**
 * Turns what Redis tells into SessionEvents, on every instance:
 * - the library's own messages on `<namespace>:event` (created, deleted, expired: published in the
 *   same script that made the change, so every instance hears of every change);
 * - keyspace notifications for this namespace's session keys, to see deletions and expiries that
 *   happened outside the library (an operator's DEL, Redis' own TTL), when the server has them on.
 * Both may tell of the same end: it is reported once.
 */
export class RedisEventListener {
  readonly #logger = new Logger('SessionModule');
  readonly #recentlyEnded = new Map<string, number>();
  readonly #subscribers: Redis[] = [];
  /** Ends told by a keyspace notification that another instance is expected to announce. */
  readonly #awaitingAnnouncement = new Map<string, NodeJS.Timeout>();
  /** Undoes what start() attached to the clients it was given (which may be the user's own). */
  readonly #detach: (() => void)[] = [];
  readonly #warned = new Set<string>();

  constructor(
    private readonly repository: RedisSessionRepository,
    private readonly events: SessionEvents,
    private readonly configureNotifications: boolean,
  ) {}

  /** Subscribes; resolves once the subscriptions are first in place (they are renewed on every reconnect). */
  async start(): Promise<void> {
    const client = this.repository.client as Redis | Cluster;
    const nodes = 'isCluster' in client && client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
    const db = nodes[0]?.options.db ?? 0;
    await Promise.all(
      nodes.map((node, i) => {
        if (this.configureNotifications) {
          // A restarted Redis has lost the setting: apply it again on every reconnect.
          const enable = () => void this.enableNotifications(node);
          node.on('ready', enable);
          this.#detach.push(() => node.off('ready', enable));
          if (node.status === 'ready') enable();
        }
        // Cluster PUBLISH reaches every node: listen for our own messages on one node only.
        return this.subscribe(node, db, i === 0);
      }),
    );
  }

  async stop(): Promise<void> {
    for (const timer of this.#awaitingAnnouncement.values()) clearTimeout(timer);
    this.#awaitingAnnouncement.clear();
    for (const detach of this.#detach.splice(0)) detach();
    // Nothing to flush on a subscriber: close at once, even while it is reconnecting.
    for (const subscriber of this.#subscribers.splice(0)) subscriber.disconnect();
  }

  /**
   * A subscriber connection beside `node` that subscribes on every (re)connect, rather than
   * relying on ioredis' resubscription: that only repeats subscriptions which once succeeded,
   * so a module started while Redis was down would never subscribe at all.
   */
  private subscribe(node: Redis, db: number, withOwnChannel: boolean): Promise<void> {
    const { keys } = this.repository;
    const subscriber = node.duplicate({ lazyConnect: true, enableAutoPipelining: false, autoResubscribe: false });
    this.#subscribers.push(subscriber);
    subscriber.on('error', () => undefined); // reconnects by itself; the main client logs connection errors
    subscriber.on('message', (_channel: string, message: string) => this.onOwnMessage(message));
    subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => this.onKeyspaceMessage(channel, message));
    return new Promise((resolve) => {
      subscriber.on('ready', () => {
        Promise.all([subscriber.psubscribe(keys.sessionKeyspacePattern(db)), withOwnChannel ? subscriber.subscribe(keys.eventChannel) : undefined]).then(
          () => resolve(),
          (error: unknown) => this.warnOnce('subscribe', `Could not subscribe to session events (will retry on reconnect): ${messageOf(error)}`),
        );
      });
      subscriber.connect().catch(() => undefined); // retried by the connection's own strategy
    });
  }

  private onOwnMessage(message: string): void {
    const decoded = decodeEventMessage(message);
    if (!decoded || !isValidSessionId(decoded.id)) return;
    this.report({ type: decoded.type, sessionId: decoded.id, principalName: this.repository.principalOf(decoded.storedPrincipal) });
  }

  /** A session key was deleted or expired by Redis itself, or by someone other than the library. */
  private onKeyspaceMessage(channel: string, event: string): void {
    if (event !== 'del' && event !== 'expired') return;
    const key = channel.slice(channel.indexOf(':') + 1);
    const id = this.repository.keys.idOfSessionKey(key);
    if (!id || !isValidSessionId(id) || this.#recentlyEnded.has(id)) return;
    const type = event === 'del' ? 'deleted' : 'expired';
    // Every instance hears this; the one that wins announces it to all (with the principal name).
    announceSessionEnd(this.repository, type, id).then(
      (announced) => {
        if (!announced) this.reportUnlessAnnounced(type, id);
      },
      () => this.report({ type, sessionId: id }), // Redis went away meanwhile: tell what we know
    );
  }

  /**
   * Another instance won and its message is on its way; but a session that was never in the
   * expiry index (one that never expires) has no winner: report it ourselves if nobody did.
   */
  private reportUnlessAnnounced(type: 'deleted' | 'expired', id: string): void {
    if (this.#recentlyEnded.has(id) || this.#awaitingAnnouncement.has(id)) return;
    const timer = setTimeout(() => {
      this.#awaitingAnnouncement.delete(id);
      this.report({ type, sessionId: id });
    }, ANNOUNCEMENT_GRACE_MS);
    timer.unref();
    this.#awaitingAnnouncement.set(id, timer);
  }

  private report(event: SessionEvent): void {
    if (event.type !== 'created') {
      if (this.#recentlyEnded.has(event.sessionId)) return;
      this.rememberEnded(event.sessionId);
      clearTimeout(this.#awaitingAnnouncement.get(event.sessionId));
      this.#awaitingAnnouncement.delete(event.sessionId);
    }
    if (event.principalName === undefined) delete event.principalName;
    this.events.emit(event);
  }

  private rememberEnded(id: string): void {
    const now = Date.now();
    this.#recentlyEnded.set(id, now);
    // Entries are in insertion (= time) order: drop the old ones from the front.
    for (const [oldId, at] of this.#recentlyEnded) {
      if (now - at < DEDUPE_WINDOW_MS) break;
      this.#recentlyEnded.delete(oldId);
    }
  }

  /** Adds the flags we need to the server's setting (kept across restarts: re-run on every reconnect). */
  private async enableNotifications(node: Redis): Promise<void> {
    try {
      const [, current = ''] = (await node.config('GET', 'notify-keyspace-events')) as string[];
      const expanded = current.includes('A') ? current + 'g$lshzxet' : current;
      const missing = REQUIRED_FLAGS.filter((flag) => !expanded.includes(flag));
      if (missing.length > 0) await node.config('SET', 'notify-keyspace-events', current + missing.join(''));
    } catch (error) {
      this.warnOnce(
        'config',
        `Could not enable keyspace notifications (${messageOf(error)}). ` +
          'Sessions still expire on time and their events still fire, but deletions made outside this library ' +
          '(e.g. an operator\'s DEL) go unnoticed until the session\'s deadline. To see them, set ' +
          '"notify-keyspace-events Kgx" in the Redis server configuration (managed Redis: its parameter group).',
      );
    }
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
