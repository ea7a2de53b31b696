import type { SessionEvent, SessionEvents } from '../core/session-events.js';
import { isValidSessionId } from '../core/session-id.js';
import { announceSessionEnd } from './announce-session-end.js';
import { EventSubscriptions } from './event-subscriptions.js';
import { decodeEventMessage } from './session-event-message.js';
import type { RedisSessionRepository } from './redis-session-repository.js';

/** An ended session is remembered this long, so that its end is reported once whichever source tells first. */
const DEDUPE_WINDOW_MS = 30_000;
/** How long to wait for the instance that won an end's announcement before reporting it ourselves. */
const ANNOUNCEMENT_GRACE_MS = 1000;

/**
 * Turns what Redis tells into SessionEvents, on every instance:
 * - the library's own messages on `<namespace>:event` (created, deleted, expired: published in the
 *   same script that made the change, so every instance hears of every change);
 * - keyspace notifications for this namespace's session keys, to see deletions and expiries that
 *   happened outside the library (an operator's DEL, Redis' own TTL), when the server has them on.
 * Both may tell of the same end: it is reported once.
 */
export class RedisEventListener {
  readonly #recentlyEnded = new Map<string, number>();
  /** Ends told by a keyspace notification that another instance is expected to announce. */
  readonly #awaitingAnnouncement = new Map<string, NodeJS.Timeout>();
  readonly #subscriptions: EventSubscriptions;

  constructor(
    private readonly repository: RedisSessionRepository,
    private readonly events: SessionEvents,
    configureNotifications: boolean,
  ) {
    this.#subscriptions = new EventSubscriptions(repository.client, repository.keys, configureNotifications, {
      onOwnMessage: (message) => this.onOwnMessage(message),
      onKeyspaceMessage: (channel, event) => this.onKeyspaceMessage(channel, event),
    });
  }

  /** Subscribes; resolves once the subscriptions are first in place (they are renewed on every reconnect). */
  start(): Promise<void> {
    return this.#subscriptions.start();
  }

  stop(): void {
    for (const timer of this.#awaitingAnnouncement.values()) clearTimeout(timer);
    this.#awaitingAnnouncement.clear();
    this.#subscriptions.stop();
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
}
