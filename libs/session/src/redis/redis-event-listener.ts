import type { SessionEvent, SessionEvents } from '../core/session-events.js';
import { isValidSessionId } from '../core/session-id.js';
import { announceSessionEnd } from './announce-session-end.js';
import { EventSubscriptions } from './event-subscriptions.js';
import { RecentIds } from './recent-ids.js';
import { isClusterClient } from './redis-connection.js';
import { decodeEventMessage } from './session-event-message.js';
import type { RedisSessionRepository } from './redis-session-repository.js';

/** An ended session is remembered this long, so that its end is reported once whichever source tells first. */
const DEDUPE_WINDOW_MS = 30_000;
/** How long to wait for the instance that won an end's announcement before reporting it ourselves. */
const ANNOUNCEMENT_GRACE_MS = 1000;
/** Cluster only: how long a keyspace 'del' waits for a 'renamed' message that would explain it. */
const RENAME_GRACE_MS = 100;
/**
 * How long a keyspace 'expired' waits for the expiry sweeper's announcement. Every instance runs
 * a sweeper, which tells of a due session within a tick; claiming it here too would cost Redis a
 * FORGET and an HGET per instance and per expiry. The notification stays the backstop for what
 * only Redis knows: a TTL set behind the library's back.
 */
const EXPIRED_GRACE_MS = 1000;

/**
 * Turns what Redis tells into SessionEvents, on every instance:
 * - the library's own messages on `<namespace>:event` (created, deleted, expired: published in the
 *   same script that made the change, so every instance hears of every change);
 * - keyevent notifications (del, expired) filtered to this namespace's session keys, to see deletions and expiries that
 *   happened outside the library (an operator's DEL, Redis' own TTL), when the server has them on.
 * Both may tell of the same end: it is reported once.
 */
export class RedisEventListener {
  /** Ids whose end was reported: a second source telling of it is ignored. */
  readonly #recentlyEnded = new RecentIds(DEDUPE_WINDOW_MS);
  /** Old ids of sessions a Cluster moved to a new id: the old key's deletion is no end. */
  readonly #movedAway = new RecentIds(DEDUPE_WINDOW_MS);
  /** Ends told by a keyspace notification that another instance is expected to announce. */
  readonly #awaitingAnnouncement = new Map<string, NodeJS.Timeout>();
  readonly #subscriptions: EventSubscriptions;
  readonly #isCluster: boolean;
  #stopped = false;

  constructor(
    private readonly repository: RedisSessionRepository,
    private readonly events: SessionEvents,
    configureNotifications: boolean,
  ) {
    this.#isCluster = isClusterClient(repository.client);
    this.#subscriptions = new EventSubscriptions(repository.client, repository.keys, configureNotifications, {
      onOwnMessage: (message) => this.onOwnMessage(message),
      onKeyEvent: (event, key) => this.onKeyEvent(event, key),
      onOwnChannel: (subscribed) => repository.changes.setLive(subscribed && !this.#stopped),
    });
  }

  /** Subscribes; resolves once the subscriptions are first in place (they are renewed on every reconnect). */
  start(): Promise<void> {
    return this.#subscriptions.start();
  }

  stop(): void {
    this.#stopped = true;
    this.repository.changes.setLive(false);
    for (const timer of this.#awaitingAnnouncement.values()) clearTimeout(timer);
    this.#awaitingAnnouncement.clear();
    this.#recentlyEnded.clear(); // and their pruning timers
    this.#movedAway.clear();
    this.#subscriptions.stop();
  }

  private onOwnMessage(message: string): void {
    const decoded = decodeEventMessage(message);
    if (!decoded || !isValidSessionId(decoded.id)) return;
    if (decoded.type === 'changed') {
      this.repository.changes.tell({ type: 'changed', sessionId: decoded.id });
      return;
    }
    if (decoded.type === 'renamed') {
      if (!isValidSessionId(decoded.oldId)) return;
      this.#movedAway.add(decoded.oldId);
      this.cancelFallback(decoded.oldId);
      this.repository.changes.tell({ type: 'renamed', sessionId: decoded.id, oldId: decoded.oldId });
      return;
    }
    this.report({ type: decoded.type, sessionId: decoded.id, principalName: this.repository.principalOf(decoded.storedPrincipal) });
  }

  /** A session key was deleted or expired by Redis itself, or by someone other than the library. */
  private onKeyEvent(event: 'del' | 'expired', key: string): void {
    const id = this.repository.keys.idOfSessionKey(key);
    if (!id || !isValidSessionId(id) || this.#recentlyEnded.has(id) || this.#movedAway.has(id)) return;
    const type = event === 'del' ? 'deleted' : 'expired';
    // A Cluster's change of id ends with a DEL of the old key; its 'renamed' message travels on
    // another connection (and the cluster bus), so give it a moment to arrive first.
    const graceMs = type === 'expired' ? EXPIRED_GRACE_MS : this.#isCluster ? RENAME_GRACE_MS : 0;
    if (graceMs > 0) setTimeout(() => this.announce(type, id), graceMs).unref();
    else this.announce(type, id);
  }

  /** Every instance hears of the end; the one that wins announces it to all (with the principal name). */
  private announce(type: 'deleted' | 'expired', id: string): void {
    if (this.#stopped || this.#recentlyEnded.has(id) || this.#movedAway.has(id)) return;
    this.repository.withinDeadline(announceSessionEnd(this.repository, type, id)).then(
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
      if (!this.#movedAway.has(id)) this.report({ type, sessionId: id });
    }, ANNOUNCEMENT_GRACE_MS);
    timer.unref();
    this.#awaitingAnnouncement.set(id, timer);
  }

  private report(event: SessionEvent): void {
    if (event.type !== 'created') {
      if (this.#recentlyEnded.has(event.sessionId)) return;
      this.#recentlyEnded.add(event.sessionId);
      this.cancelFallback(event.sessionId);
    }
    if (event.principalName === undefined) delete event.principalName;
    this.events.emit(event);
  }

  private cancelFallback(id: string): void {
    clearTimeout(this.#awaitingAnnouncement.get(id));
    this.#awaitingAnnouncement.delete(id);
  }
}
