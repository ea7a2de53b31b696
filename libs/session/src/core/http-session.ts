import { SessionInvalidatedError, SessionAttributeError } from './errors.js';
import { FlushMode } from './flush-mode.js';
import { PRINCIPAL_NAME_INDEX_NAME, principalFromSerialized } from './principal.js';
import { SaveMode } from './save-mode.js';
import { sessionDeadline, type SessionData, type SessionDelta, type SessionMetadata } from './session-data.js';
import { generateSessionId } from './session-id.js';
import type { SessionSerializer } from './session-serializer.js';

/** What a session needs from the repository that made it. */
export interface SessionStore {
  save(session: HttpSession<any>): Promise<boolean>;
  deleteById(id: string): Promise<void>;
}

/** Behaviour shared by every session of one repository. */
export interface SessionSettings {
  flushMode: FlushMode;
  saveMode: SaveMode;
  serializer: SessionSerializer;
  /** Largest serialized attribute value accepted by `set()`, in bytes (UTF-8). */
  maxAttributeBytes: number;
  /** A load refreshes the idle timer at most once per this many ms (default 0: every load). */
  touchIntervalMs?: number;
  /** Every session ends this many seconds after its creation, however active (default: no absolute lifetime). */
  maxSessionLifetimeSeconds?: number;
  /** At most this many sessions per principal, checked when a session gets its principal (default: no limit). */
  maximumSessions?: MaximumSessions;
  /** Redis store only: every acknowledged write waits for this many replicas (default: none, asynchronous replication). */
  waitForReplicas?: WaitForReplicas;
}

/** `WAIT replicas timeoutMs` after each write: a write fewer replicas confirmed in time fails instead of being acknowledged. */
export interface WaitForReplicas {
  replicas: number;
  timeoutMs: number;
}

/** The per-user session limit: what happens to a login beyond `max` sessions. */
export interface MaximumSessions {
  max: number;
  /** `'expire-oldest'`: the least recently used sessions beyond `max` end; `'reject'`: the login fails with SessionLimitExceededError (409). */
  whenExceeded: 'expire-oldest' | 'reject';
}

/** Told about changes that the HTTP layer must reflect in a cookie or header at once. */
export type SessionChangeListener = (session: HttpSession<any>) => void;

type Attributes = Record<string, unknown>;

/** A name with one would be stored (UTF-8, in Redis) as U+FFFD, and come back as another attribute. */
const LONE_SURROGATE = /\p{Cs}/u;

/** What flushed() gives when no IMMEDIATE write is under way (compared by identity in save()). */
const SETTLED = Promise.resolve();

/** Spring stores the interval as a Java int; larger values would also overflow Redis' expiry arithmetic. */
export const MAX_INTERVAL_SECONDS = 2 ** 31 - 1;

/** A "remember me" session's default idle interval: 30 days, as Spring's SpringSessionRememberMeServices. */
const REMEMBER_ME_SECONDS = 30 * 24 * 3600;

/**
 * A user's session (Spring's `Session`): attributes plus times, with change tracking so that a
 * save writes only what changed. Attribute values are kept serialized as loaded and parsed on
 * first `get`, so a request that reads one attribute does not parse the others.
 */
export class HttpSession<T extends Attributes = Record<string, any>> {
  #id: string;
  #storedId: string | undefined;
  readonly #creationTime: number;
  #lastAccessedTime: number;
  #maxInactiveIntervalInSeconds: number;
  /** The change count when the interval was last changed; 0 once it is stored. */
  #intervalChange = 0;
  /** Serialized values as stored. */
  #stored: Map<string, string>;
  /** #stored belongs to others too (SessionData.attributesShared) until this object's first save. */
  #storedShared: boolean;
  /** Parsed (or newly set) values, by name. */
  readonly #values = new Map<string, unknown>();
  /** Names to write on the next save (set, removed, or read under ON_GET_ATTRIBUTE), with the change count when marked. */
  #dirty: Map<string, number> | undefined; // made on the first change: most requests only read
  #changeCount = 0;
  #invalidated = false;
  /** The IMMEDIATE writes' chain; made on first use (most sessions never need one). */
  #pendingFlush: Promise<unknown> | undefined;
  /** IMMEDIATE writes scheduled and not yet settled. */
  #flushesInFlight = 0;
  /** The last write (save or delete) of this object: writes run one at a time, each on the state the previous left. */
  #writes: Promise<boolean> | undefined;
  #flushError: unknown;
  #changeListener: SessionChangeListener | undefined;
  #metadata: SessionMetadata;
  /** The change count when the metadata was last changed; 0 once it is stored. */
  #metadataChange = 0;
  readonly #touchedOnLoad: boolean;

  /** Sessions are made by a repository: `SessionRepository.createSession()` or `findById()`. */
  constructor(
    private store: SessionStore,
    private readonly settings: SessionSettings,
    id: string | undefined,
    data: SessionData,
  ) {
    this.#id = id ?? generateSessionId();
    this.#storedId = id;
    this.#creationTime = data.creationTime;
    this.#lastAccessedTime = data.lastAccessedTime;
    this.#maxInactiveIntervalInSeconds = data.maxInactiveIntervalInSeconds;
    this.#stored = data.attributes;
    this.#storedShared = data.attributesShared === true;
    this.#metadata = data.metadata ?? {};
    this.#touchedOnLoad = data.touched === true;
  }

  get id(): string {
    return this.#id;
  }

  /** True until the session has been stored once. */
  get isNew(): boolean {
    return this.#storedId === undefined;
  }

  get creationTime(): number {
    return this.#creationTime;
  }

  get lastAccessedTime(): number {
    return this.#lastAccessedTime;
  }

  /** Seconds without access before the session expires; negative: never; 0: at once. */
  get maxInactiveIntervalInSeconds(): number {
    return this.#maxInactiveIntervalInSeconds;
  }

  set maxInactiveIntervalInSeconds(seconds: number) {
    this.assertUsable();
    if (!Number.isInteger(seconds) || seconds > MAX_INTERVAL_SECONDS || seconds < -MAX_INTERVAL_SECONDS - 1) {
      throw new RangeError(`maxInactiveIntervalInSeconds must be a 32-bit integer (negative: never expires), got ${seconds}`);
    }
    if (seconds === this.#maxInactiveIntervalInSeconds) return;
    this.#maxInactiveIntervalInSeconds = seconds;
    this.#intervalChange = ++this.#changeCount;
    this.changed();
  }

  get isExpired(): boolean {
    return Date.now() >= this.deadline();
  }

  /**
   * When the session ends unless used again (epoch ms): the earlier of its idle deadline and its
   * absolute one (`maxSessionLifetimeSeconds`); null when neither applies.
   */
  get expiresAt(): number | null {
    const deadline = this.deadline();
    return deadline === Infinity ? null : deadline;
  }

  /** The client's User-Agent when the session was created or last changed its id (bounded; never trust it). */
  get userAgent(): string | undefined {
    return this.#metadata.userAgent;
  }

  /** The client's address at the same moments, as the platform reports it (its trust-proxy setting honoured). */
  get ip(): string | undefined {
    return this.#metadata.ip;
  }

  /** True when the session was given a persistent cookie with `rememberMe()`. */
  get isRemembered(): boolean {
    return this.#metadata.rememberMe === true;
  }

  /**
   * "Remember me": the session gets its own idle interval (default 30 days) and a persistent
   * cookie that lasts as long, re-issued as the session is used so that it never expires while
   * the session lives. Other sessions keep a browser-session cookie. Call it at login, beside
   * `changeId()`.
   */
  rememberMe(maxInactiveIntervalInSeconds = REMEMBER_ME_SECONDS): void {
    this.assertUsable();
    if (!Number.isInteger(maxInactiveIntervalInSeconds) || maxInactiveIntervalInSeconds < 1 || maxInactiveIntervalInSeconds > MAX_INTERVAL_SECONDS) {
      throw new RangeError(`rememberMe() takes a whole number of seconds between 1 and ${MAX_INTERVAL_SECONDS}, got ${maxInactiveIntervalInSeconds}`);
    }
    this.maxInactiveIntervalInSeconds = maxInactiveIntervalInSeconds;
    if (this.isRemembered) return;
    this.setMetadata({ ...this.#metadata, rememberMe: true });
    this.changed();
  }

  /** @internal True when the load that made this object refreshed the idle timer. */
  get touchedOnLoad(): boolean {
    return this.#touchedOnLoad;
  }

  /** @internal Records the client (at creation and at a change of id); written with the next save, without counting as a change. */
  recordClient(userAgent: string | undefined, ip: string | undefined): void {
    if (userAgent === this.#metadata.userAgent && ip === this.#metadata.ip) return;
    this.setMetadata({ ...this.#metadata, userAgent, ip });
  }

  get isInvalidated(): boolean {
    return this.#invalidated;
  }

  get<K extends keyof T & string>(name: K): T[K] | undefined {
    this.assertUsable();
    if (this.settings.saveMode === SaveMode.ON_GET_ATTRIBUTE && this.has(name)) this.markDirty(name);
    if (this.#values.has(name)) return this.#values.get(name) as T[K];
    const text = this.#stored.get(name);
    if (text === undefined) return undefined;
    const value = this.settings.serializer.deserialize(text, name);
    this.#values.set(name, value);
    return value as T[K];
  }

  /** Stores `value` under `name`; `undefined` removes the attribute. Throws at once for a value that cannot be stored. */
  set<K extends keyof T & string>(name: K, value: T[K] | undefined): void {
    this.assertUsable();
    if (typeof name !== 'string' || name.length === 0) throw new SessionAttributeError(String(name), 'the name must be a non-empty string');
    if (LONE_SURROGATE.test(name)) throw new SessionAttributeError(name, 'the name must be well-formed Unicode (a lone surrogate has no UTF-8 form)');
    if (value === undefined) {
      this.remove(name);
      return;
    }
    const text = this.settings.serializer.serialize(value, name);
    if (Buffer.byteLength(text) > this.settings.maxAttributeBytes) {
      throw new SessionAttributeError(name, `its serialized size exceeds maxAttributeBytes (${this.settings.maxAttributeBytes})`);
    }
    this.#values.set(name, value);
    this.markDirty(name);
    this.changed();
  }

  remove(name: keyof T & string): void {
    this.assertUsable();
    if (!this.has(name)) return;
    this.#values.set(name, undefined);
    this.markDirty(name);
    this.changed();
  }

  attributeNames(): string[] {
    this.assertUsable();
    const names = new Set(this.#stored.keys());
    for (const [name, value] of this.#values) {
      if (value === undefined) names.delete(name);
      else names.add(name);
    }
    return [...names];
  }

  /** The principal name attribute, if set: the user this session belongs to. */
  get principalName(): string | undefined {
    // Read without get(): under ON_GET_ATTRIBUTE that would mark the attribute for writing back.
    if (this.#values.has(PRINCIPAL_NAME_INDEX_NAME)) {
      const value = this.#values.get(PRINCIPAL_NAME_INDEX_NAME);
      return typeof value === 'string' && value.length > 0 ? value : undefined;
    }
    return principalFromSerialized(this.#stored.get(PRINCIPAL_NAME_INDEX_NAME), (text) =>
      this.settings.serializer.deserialize(text, PRINCIPAL_NAME_INDEX_NAME),
    );
  }

  /**
   * Gives the session a new id and keeps its data (session-fixation protection: call it on login).
   * The old id stops working when the session is saved.
   */
  changeId(): string {
    this.assertUsable();
    this.#id = generateSessionId();
    this.changed();
    return this.#id;
  }

  /** Deletes the session everywhere; its cookie is cleared and its sockets are closed. */
  async invalidate(): Promise<void> {
    if (this.#invalidated) return;
    this.#invalidated = true;
    this.#changeListener?.(this);
    await this.#pendingFlush?.catch(() => undefined);
    // Behind any save still under way: a first save finishing later would otherwise store the session again.
    await this.writeInOrder(async () => {
      if (this.#storedId !== undefined) await this.store.deleteById(this.#storedId);
      return true;
    });
  }

  /**
   * Writes pending changes now. Resolves to false when the session no longer exists in the
   * store (invalidated or expired meanwhile): nothing is written then, the session is not revived.
   */
  save(): Promise<boolean> {
    if (this.#invalidated) return Promise.resolve(false);
    const flushed = this.flushed();
    if (flushed !== SETTLED) return flushed.then(() => (this.hasChanges() ? this.store.save(this) : true));
    return this.hasChanges() ? this.store.save(this) : Promise.resolve(true);
  }

  /** Resolves when IMMEDIATE writes have completed; rejects with the first that failed. */
  flushed(): Promise<void> {
    // Without IMMEDIATE writes (the usual case), no async step: this is on every commit's path.
    return this.#pendingFlush === undefined && this.#flushError === undefined ? SETTLED : this.flushesSettled();
  }

  private async flushesSettled(): Promise<void> {
    await this.#pendingFlush;
    if (this.#flushError !== undefined) {
      const error = this.#flushError;
      this.#flushError = undefined;
      throw error;
    }
  }

  /** True while IMMEDIATE writes are under way (`flushed()` would wait). */
  get hasPendingWrites(): boolean {
    return this.#flushesInFlight > 0;
  }

  /** True when a save would write something. */
  hasChanges(): boolean {
    if (this.#invalidated) return false;
    if (this.isNew) return this.needsStoring();
    return (
      (this.#dirty?.size ?? 0) > 0 ||
      this.#intervalChange > 0 ||
      this.#metadataChange > 0 ||
      this.#id !== this.#storedId ||
      (this.settings.saveMode === SaveMode.ALWAYS && this.#stored.size > 0)
    );
  }

  /**
   * @internal Runs a repository write of this session after those already under way. Two saves
   * that overlapped would both write a new session (the second failing as an id collision) or
   * compute their deltas from the same stale state.
   */
  writeInOrder(write: () => Promise<boolean>): Promise<boolean> {
    // After the previous write whether it succeeded or not; its failure is its own caller's to handle.
    const result = this.#writes ? this.#writes.then(write, write) : write();
    this.#writes = result;
    return result;
  }

  /**
   * @internal Makes `save()`, `invalidate()` and IMMEDIATE writes go through `store`: the repository
   * the module was given, which may wrap the one that built the session (auditing, metrics).
   */
  bindTo(store: SessionStore): void {
    this.store = store;
  }

  /**
   * @internal For APIs that hand out attribute values to be changed in place (express-session's
   * `req.session.flash.info.push(...)`): marks the attribute for writing when its value no longer
   * serializes to what is stored. Returns true when it did.
   */
  markIfChangedInPlace(name: string): boolean {
    if (this.#invalidated || !this.#values.has(name) || this.#dirty?.has(name)) return false;
    const value = this.#values.get(name);
    if (value === undefined || typeof value !== 'object') return false;
    if (this.settings.serializer.serialize(value, name) === this.#stored.get(name)) return false;
    this.markDirty(name);
    this.changed();
    return true;
  }

  /** @internal Registers the HTTP layer's hook for cookie/header updates. */
  onChange(listener: SessionChangeListener | undefined): void {
    this.#changeListener = listener;
  }

  /** @internal The id under which the session is stored, if it is. */
  get storedId(): string | undefined {
    return this.#storedId;
  }

  /**
   * @internal What the next save must write. A changed id adds nothing: the store moves what it
   * holds (so that attributes another copy saved meanwhile are kept) and writes this delta on top.
   */
  delta(): SessionDelta {
    const attributes = new Map<string, string | undefined>();
    if (this.settings.saveMode === SaveMode.ALWAYS) for (const name of this.attributeNames()) attributes.set(name, this.serializedValue(name));
    if (this.#dirty !== undefined) for (const name of this.#dirty.keys()) attributes.set(name, this.serializedValue(name));
    const delta: SessionDelta = {
      id: this.#id,
      storedId: this.#storedId,
      creationTime: this.#creationTime,
      lastAccessedTime: this.#lastAccessedTime,
      maxInactiveIntervalInSeconds: this.#maxInactiveIntervalInSeconds,
      intervalChanged: this.#intervalChange > 0,
      attributes,
      changeCount: this.#changeCount,
    };
    if (this.#metadataChange > 0) delta.metadata = this.#metadata;
    const renamed = this.#storedId !== undefined && this.#id !== this.#storedId;
    if (renamed || attributes.has(PRINCIPAL_NAME_INDEX_NAME)) {
      const before = principalFromSerialized(this.#stored.get(PRINCIPAL_NAME_INDEX_NAME), (text) =>
        this.settings.serializer.deserialize(text, PRINCIPAL_NAME_INDEX_NAME),
      );
      const after = this.principalName;
      // Under a new id, the principal index must be told even when the name stays.
      if (before !== after || (renamed && after !== undefined)) delta.principalChange = { before, after };
    }
    return delta;
  }

  /** @internal Called by the repository once `delta` is stored. */
  markSaved(delta: SessionDelta): void {
    if (this.#storedShared && delta.attributes.size > 0) {
      this.#stored = new Map(this.#stored);
      this.#storedShared = false;
    }
    for (const [name, text] of delta.attributes) {
      if (text === undefined) this.#stored.delete(name);
      else this.#stored.set(name, text);
    }
    // A name changed again while this save was in flight stays dirty for the next one.
    for (const name of delta.attributes.keys()) {
      if ((this.#dirty?.get(name) ?? 0) <= delta.changeCount) this.#dirty?.delete(name);
    }
    this.#storedId = delta.id;
    // Likewise an interval (or the metadata) changed again while in flight.
    if (delta.intervalChanged && this.#intervalChange <= delta.changeCount) this.#intervalChange = 0;
    if (delta.metadata !== undefined && this.#metadataChange <= delta.changeCount) this.#metadataChange = 0;
  }

  /** @internal Called by the repository when the session turned out to be gone from the store. */
  markGone(): void {
    this.#invalidated = true;
  }

  private deadline(): number {
    return sessionDeadline(
      { creationTime: this.#creationTime, lastAccessedTime: this.#lastAccessedTime, maxInactiveIntervalInSeconds: this.#maxInactiveIntervalInSeconds },
      this.settings.maxSessionLifetimeSeconds,
    );
  }

  private setMetadata(metadata: SessionMetadata): void {
    this.#metadata = metadata;
    this.#metadataChange = ++this.#changeCount;
  }

  private has(name: string): boolean {
    return this.#values.has(name) ? this.#values.get(name) !== undefined : this.#stored.has(name);
  }

  private markDirty(name: string): void {
    (this.#dirty ??= new Map()).set(name, ++this.#changeCount);
  }

  private serializedValue(name: string): string | undefined {
    if (!this.#values.has(name)) return this.#stored.get(name);
    const value = this.#values.get(name);
    return value === undefined ? undefined : this.settings.serializer.serialize(value, name);
  }

  /** A new session is stored only once something was written to it. */
  private needsStoring(): boolean {
    return (this.#dirty?.size ?? 0) > 0 || this.#intervalChange > 0;
  }

  private changed(): void {
    this.#changeListener?.(this);
    if (this.settings.flushMode === FlushMode.IMMEDIATE) {
      this.#flushesInFlight++;
      this.#pendingFlush = (this.#pendingFlush ?? Promise.resolve())
        .then(() => (this.hasChanges() ? this.store.save(this) : true))
        .catch((error: unknown) => {
          this.#flushError ??= error;
        })
        .finally(() => this.#flushesInFlight--);
    }
  }

  private assertUsable(): void {
    if (this.#invalidated) throw new SessionInvalidatedError(this.#id);
  }
}
