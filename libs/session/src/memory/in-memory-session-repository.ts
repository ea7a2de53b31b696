import { Subject, type Observable } from 'rxjs';
import { BaseSessionRepository } from '../core/base-session-repository.js';
import { SessionLimitExceededError, SessionOptionsError } from '../core/errors.js';
import { rejectUnknownOptions } from '../core/unknown-options.js';
import type { HttpSession, SessionSettings } from '../core/http-session.js';
import { PRINCIPAL_NAME_INDEX_NAME, principalFromSerialized } from '../core/principal.js';
import { isTouchDue, sessionDeadline, type SessionData } from '../core/session-data.js';
import type { SessionEvent, SessionEventType } from '../core/session-events.js';
import { isValidSessionId } from '../core/session-id.js';
import { resolveSessionSettings, type SessionSettingsOptions } from '../core/session-settings-options.js';

/** How a directly built InMemorySessionRepository behaves; every field is optional. */
export interface InMemorySessionRepositoryOptions extends SessionSettingsOptions {
  /** Default 0, every load refreshes the idle timer; the module passes its own `touchIntervalSeconds`. */
  touchIntervalSeconds?: number;
}

interface StoredSession extends SessionData {
  timer?: NodeJS.Timeout;
}

/** setTimeout's limit; longer deadlines are re-armed when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Sessions in this process's memory, with the Redis repository's contract and events (local
 * to the process, on `events`). Expired sessions are removed by timers, not only skipped on read.
 * What `store: 'memory'` uses; built directly, it can be given as `store` or wrapped by one's own.
 */
export class InMemorySessionRepository extends BaseSessionRepository {
  readonly #sessions = new Map<string, StoredSession>();
  readonly #principals = new Map<string, Set<string>>();
  readonly #events = new Subject<SessionEvent>();
  readonly #observable = this.#events.asObservable();

  /** Throws SessionOptionsError, naming the option, for a bad value. */
  constructor(options: InMemorySessionRepositoryOptions = {}) {
    const { settings, maxInactiveIntervalInSeconds } = resolveInMemoryOptions(options);
    super(settings, maxInactiveIntervalInSeconds);
  }

  /** Its sessions' creation, deletion and expiry; completes on `close()`. */
  override get events(): Observable<SessionEvent> {
    return this.#observable;
  }

  /** How many sessions are held (for tests and diagnostics). */
  get size(): number {
    return this.#sessions.size;
  }

  async findById<T extends Record<string, any>>(id: string, options: { touch?: boolean } = {}): Promise<HttpSession<T> | undefined> {
    if (!isValidSessionId(id)) return undefined;
    const stored = this.#sessions.get(id);
    if (!stored) return undefined;
    if (Date.now() >= this.deadlineOf(stored)) {
      this.end(id, 'expired');
      return undefined;
    }
    const now = Date.now();
    let touched = false;
    if ((options.touch ?? true) && isTouchDue(stored, now, this.settings.touchIntervalMs ?? 0)) {
      stored.lastAccessedTime = now;
      touched = true;
      this.arm(id, stored);
    }
    return this.restore<T>(id, { ...stored, attributes: new Map(stored.attributes), touched });
  }

  protected async write(session: HttpSession<any>): Promise<boolean> {
    const delta = session.delta();
    const limit = this.settings.maximumSessions;
    const login = limit && delta.principalChange?.after;
    // Checked before anything is written: a refused login leaves every session as it was.
    if (login && limit.whenExceeded === 'reject' && this.liveSessionsOf(login, delta).length >= limit.max) throw new SessionLimitExceededError(limit.max);
    let stored: StoredSession | undefined;
    if (delta.storedId === undefined) {
      if (delta.maxInactiveIntervalInSeconds === 0) return false; // expired at once: nothing to keep, nothing to announce (as Redis)
      stored = {
        creationTime: delta.creationTime,
        lastAccessedTime: delta.lastAccessedTime,
        maxInactiveIntervalInSeconds: delta.maxInactiveIntervalInSeconds,
        attributes: new Map(),
      };
    } else {
      stored = this.#sessions.get(delta.storedId);
      if (!stored || Date.now() >= this.deadlineOf(stored)) {
        session.markGone();
        return false;
      }
      this.#sessions.delete(delta.storedId);
      this.unindex(delta.storedId, stored);
    }
    for (const [name, text] of delta.attributes) {
      if (text === undefined) stored.attributes.delete(name);
      else stored.attributes.set(name, text);
    }
    // Only a changed interval is written: another copy may have changed it since this one was loaded.
    if (delta.intervalChanged) stored.maxInactiveIntervalInSeconds = delta.maxInactiveIntervalInSeconds;
    if (delta.metadata) stored.metadata = { ...delta.metadata };
    this.#sessions.set(delta.id, stored);
    this.index(delta.id, stored);
    if (login && limit.whenExceeded === 'expire-oldest') {
      const others = this.liveSessionsOf(login, delta).sort(([, x], [, y]) => x.lastAccessedTime - y.lastAccessedTime);
      for (const [id] of others.slice(0, Math.max(0, others.length - (limit.max - 1)))) this.end(id, 'deleted');
    }
    session.markSaved(delta);
    if (delta.storedId === undefined) this.#events.next({ type: 'created', sessionId: delta.id, principalName: this.principalOf(stored) });
    if (stored.maxInactiveIntervalInSeconds === 0) this.end(delta.id, 'expired');
    else this.arm(delta.id, stored);
    return true;
  }

  async deleteById(id: string): Promise<void> {
    if (this.#sessions.has(id)) this.end(id, 'deleted');
  }

  async findByPrincipalName(principalName: string): Promise<HttpSession[]> {
    const ids = [...(this.#principals.get(principalName) ?? [])];
    const sessions = await Promise.all(ids.map((id) => this.findById(id, { touch: false })));
    return sessions.filter((session): session is HttpSession => session !== undefined);
  }

  /** Stops every timer and completes `events`; the repository keeps working but nothing expires by itself, nor is announced, any more. */
  close(): void {
    for (const stored of this.#sessions.values()) clearTimeout(stored.timer);
    this.#events.complete();
  }

  private end(id: string, type: SessionEventType): void {
    const stored = this.#sessions.get(id);
    if (!stored) return;
    clearTimeout(stored.timer);
    this.#sessions.delete(id);
    this.unindex(id, stored);
    this.#events.next({ type, sessionId: id, principalName: this.principalOf(stored) });
  }

  /** Schedules the session's expiry at its deadline (timers are unref'd: they never keep the process alive). */
  private arm(id: string, stored: StoredSession): void {
    clearTimeout(stored.timer);
    const deadline = this.deadlineOf(stored);
    if (deadline === Infinity) return;
    const delay = Math.max(0, deadline - Date.now());
    stored.timer = setTimeout(() => {
      if (Date.now() >= this.deadlineOf(stored)) this.end(id, 'expired');
      else this.arm(id, stored);
    }, Math.min(delay, MAX_TIMER_MS)).unref();
  }

  /** The live sessions of a principal other than the one `delta` saves. */
  private liveSessionsOf(principal: string, delta: { id: string; storedId: string | undefined }): [string, StoredSession][] {
    const now = Date.now();
    return [...(this.#principals.get(principal) ?? [])]
      .filter((id) => id !== delta.id && id !== delta.storedId)
      .map((id) => [id, this.#sessions.get(id)] as [string, StoredSession | undefined])
      .filter((entry): entry is [string, StoredSession] => entry[1] !== undefined && now < this.deadlineOf(entry[1]));
  }

  /** The earlier of the session's idle and absolute deadlines. */
  private deadlineOf(stored: SessionData): number {
    return sessionDeadline(stored, this.settings.maxSessionLifetimeSeconds);
  }

  private principalOf(stored: SessionData): string | undefined {
    return principalFromSerialized(stored.attributes.get(PRINCIPAL_NAME_INDEX_NAME), (text) =>
      this.settings.serializer.deserialize(text, PRINCIPAL_NAME_INDEX_NAME),
    );
  }

  private index(id: string, stored: SessionData): void {
    const principal = this.principalOf(stored);
    if (principal === undefined) return;
    let ids = this.#principals.get(principal);
    if (!ids) this.#principals.set(principal, (ids = new Set()));
    ids.add(id);
  }

  private unindex(id: string, stored: SessionData): void {
    const principal = this.principalOf(stored);
    if (principal === undefined) return;
    const ids = this.#principals.get(principal);
    ids?.delete(id);
    if (ids?.size === 0) this.#principals.delete(principal);
  }
}

const OPTION_NAMES: Record<keyof InMemorySessionRepositoryOptions, true> = {
  maxInactiveIntervalInSeconds: true, flushMode: true, saveMode: true, serializer: true, maxAttributeBytes: true, touchIntervalSeconds: true,
  maxSessionLifetimeSeconds: true, maximumSessions: true,
};

/** The options with the module's defaults filled in (touch interval: 0), checked as the module checks its own. */
function resolveInMemoryOptions(options: InMemorySessionRepositoryOptions): { settings: SessionSettings; maxInactiveIntervalInSeconds: number } {
  if (typeof options !== 'object' || options === null) {
    throw new SessionOptionsError('options', `expected an object of InMemorySessionRepositoryOptions, got ${JSON.stringify(options)}`);
  }
  rejectUnknownOptions(options, OPTION_NAMES);
  return resolveSessionSettings(options, 0);
}
