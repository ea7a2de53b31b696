import type { Cluster, Redis } from 'ioredis';
import { BaseSessionRepository } from '../core/base-session-repository.js';
import { SessionLimitExceededError, SessionStoreUnavailableError } from '../core/errors.js';
import type { HttpSession, MaximumSessions, SessionSettings, WaitForReplicas } from '../core/http-session.js';
import type { SessionChangeFeed } from '../core/session-repository.js';
import { PRINCIPAL_NAME_INDEX_NAME } from '../core/principal.js';
import { isLive, isTouchDue, sessionDeadline, type SessionData, type SessionDelta, type SessionMetadata } from '../core/session-data.js';
import { isValidSessionId } from '../core/session-id.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from '../session.constants.js';
import { ThrottledLogger } from '../throttled-logger.js';
import { withDeadline } from './command-deadline.js';
import { isClusterClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { RedisChangeFeed } from './redis-change-feed.js';
import { encodeChangedMessage, encodeEventMessage, encodeRenameMessage } from './session-event-message.js';
import { SessionScripts } from './session-scripts.js';

const ATTRIBUTE_PREFIX = 'sessionAttr:';
const PRINCIPAL_FIELD = ATTRIBUTE_PREFIX + PRINCIPAL_NAME_INDEX_NAME;
/** The metadata's fields, beside Spring's (which Spring's own reader ignores). */
const METADATA_FIELDS = { userAgent: 'userAgent', ip: 'ip', rememberMe: 'rememberMe' } as const;

/**
 * Sessions in Redis, one hash each with Spring's field names (Spring's RedisIndexedSessionRepository,
 * without its extra round trips): a lookup is one HGETALL; a save writes only the delta in one
 * script and never revives a session deleted or expired meanwhile. Every operation fails with
 * SessionStoreUnavailableError when Redis errs or has not answered within `commandTimeoutMs`.
 */
export class RedisSessionRepository extends BaseSessionRepository {
  /** @internal For the sweeper and the event listener. */
  readonly scripts: SessionScripts;
  /** A Cluster cannot rename across slots: there, a changed id is copied, then the old key deleted. */
  readonly #isCluster: boolean;
  /** waitForReplicas (standalone only: the options refuse it on a Cluster). */
  readonly #wait: WaitForReplicas | undefined;
  readonly #touchFailures = new ThrottledLogger();
  /** @internal Told by the event listener (and by this repository's own writes); read by the socket session cache. */
  readonly changes = new RedisChangeFeed(
    (id) => this.loadWatched(id),
    (id, data) => this.restore(id, data),
  );

  constructor(
    readonly client: Redis | Cluster,
    readonly keys: RedisKeys,
    settings: SessionSettings,
    maxInactiveIntervalInSeconds: number,
    /** How long an operation may wait for Redis (the clock starts when the operation does). */
    readonly commandTimeoutMs: number = DEFAULT_COMMAND_TIMEOUT_MS,
  ) {
    super(settings, maxInactiveIntervalInSeconds);
    this.scripts = new SessionScripts(client);
    this.#isCluster = isClusterClient(client);
    this.#wait = settings.waitForReplicas;
  }

  /**
   * One plain HGETALL. The idle timer is refreshed by a script sent after it, without waiting for
   * it, and only when the touch interval has passed: a script on every read was measured to cost
   * ~6% of a read request's throughput (Redis shares the machine's cores with the app).
   */
  findById<T extends Record<string, any>>(id: string, options: { touch?: boolean } = {}): Promise<HttpSession<T> | undefined> {
    if (!isValidSessionId(id)) return Promise.resolve(undefined);
    const key = this.keys.session(id);
    return withDeadline(this.client.hgetall(key), this.commandTimeoutMs).then((hash) => {
      const data = parseHash(hash);
      const now = Date.now();
      if (!data || !isLive(data, now, this.settings.maxSessionLifetimeSeconds)) return undefined;
      // Never waits for replicas: a touch is acknowledged to no one, and one lost in a failover only
      // moves the idle deadline back to the previous touch.
      if (options.touch !== false && isTouchDue(data, now, this.settings.touchIntervalMs ?? 0)) {
        this.scripts.touch(key, now, this.lifetimeMs).catch((error: unknown) => this.reportTouchFailure(error));
        data.lastAccessedTime = now;
        data.touched = true;
      }
      return this.restore<T>(id, data);
    }, storeUnavailable);
  }

  /** One TOUCH script: a socket's touch needs the session alive, not its contents. */
  override touchById(id: string): Promise<number | undefined> {
    if (!isValidSessionId(id)) return Promise.resolve(undefined);
    return withDeadline(this.scripts.touch(this.keys.session(id), Date.now(), this.lifetimeMs), this.commandTimeoutMs).then(
      (interval) => interval ?? undefined,
      storeUnavailable,
    );
  }

  override get changeFeed(): SessionChangeFeed {
    return this.changes;
  }

  /** Tells this instance's copies at once, before the caller goes on: the event of the change arrives later. */
  override save(session: HttpSession<any>): Promise<boolean> {
    const storedId = session.storedId;
    const told = () => this.changes.changedHere(storedId, session.storedId);
    return super.save(session).then(
      (saved) => {
        told();
        return saved;
      },
      (error: unknown) => {
        told();
        throw error;
      },
    );
  }

  /** The socket session cache's load (LOAD_WATCHED): the stored state of a live session, whose changes are published from now on. */
  private loadWatched(id: string): Promise<SessionData | undefined> {
    if (!isValidSessionId(id)) return Promise.resolve(undefined);
    return withDeadline(this.scripts.loadWatched(this.keys.session(id)), this.commandTimeoutMs).then((hash) => {
      const data = parseHash(hash);
      return data && isLive(data, Date.now(), this.settings.maxSessionLifetimeSeconds) ? data : undefined;
    }, storeUnavailable);
  }

  protected write(session: HttpSession<any>): Promise<boolean> {
    const delta = session.delta();
    if (delta.storedId === undefined && !delta.principalChange && delta.maxInactiveIntervalInSeconds !== 0 && !this.#wait) {
      // A new session without a principal (the first use of a visitor's session): one script, no async step.
      return withDeadline(this.create(delta), this.commandTimeoutMs).then((result) => {
        assertIdWasFree(result);
        session.markSaved(delta);
        return true;
      }, storeUnavailable);
    }
    if (delta.storedId === undefined || delta.id !== delta.storedId || delta.intervalChanged || delta.principalChange || delta.metadata) {
      return this.writeWithIndexes(session, delta);
    }
    // The usual save, attributes only: one script, no index to keep, no async step.
    const updated = this.scripts.update(attributeFields(delta, [this.keys.session(delta.id), this.keys.eventChannel, encodeChangedMessage(delta.id)]));
    return withDeadline(this.#wait ? updated.then((result) => (result === 0 ? result : this.replicated(result))) : updated, this.commandTimeoutMs).then((result) => {
      if (result === 0) {
        session.markGone();
        return false;
      }
      session.markSaved(delta);
      return true;
    }, storeUnavailable);
  }

  /**
   * A new session's CREATE script, which on a standalone server also files it in the expiry index;
   * a Cluster keeps that index in other slots, so there the ZADD goes beside the script. 1 when
   * written, -1 when the id is taken.
   */
  private create(delta: SessionDelta): Promise<number> {
    const { id } = delta;
    const principal = delta.attributes.get(PRINCIPAL_NAME_INDEX_NAME) ?? '';
    const deadline = sessionDeadline(delta, this.settings.maxSessionLifetimeSeconds);
    const args: string[] = [
      this.keys.eventChannel,
      encodeEventMessage('created', id, principal),
      id,
      String(delta.creationTime),
      String(delta.lastAccessedTime),
      String(delta.maxInactiveIntervalInSeconds),
      // Past its deadline already (a handler that ran longer than the interval): Redis drops it at once, and the sweeper reports it.
      deadline === Infinity ? '' : String(Math.max(1, deadline - Date.now())),
      deadline === Infinity ? '' : String(deadline),
    ];
    // A key that does not exist yet has no fields to delete.
    appendFields(delta, args, delta.metadata && metadataFields(delta.metadata));
    const key = this.keys.session(id);
    if (!this.#isCluster) return this.scripts.create(key, this.keys.expirations(this.keys.shardOf(id)), args);
    return Promise.all([this.scripts.create(key, undefined, args), this.fileDeadline(id, delta.lastAccessedTime, delta)]).then(([result]) => result);
  }

  /** A new session, a new id, a new interval or a new principal: the script, then the indexes that follow from it. */
  private async writeWithIndexes(session: HttpSession<any>, delta: SessionDelta): Promise<boolean> {
    const isNew = delta.storedId === undefined;
    if (isNew && delta.maxInactiveIntervalInSeconds === 0) return false; // expired at once: nothing to keep
    const renamed = !isNew && delta.id !== delta.storedId;
    // A login under maximumSessions: the limit's scripts file the session under its principal.
    const limit = this.settings.maximumSessions;
    const login = limit ? delta.principalChange?.after : undefined;
    if (login !== undefined && limit!.whenExceeded === 'reject') await this.reserveSlot(login, delta, limit!.max);

    const written =
      renamed && this.#isCluster
        ? await this.saveUnderNewIdAcrossSlots(delta, login !== undefined)
        : await this.saveInOneScript(delta, isNew, renamed, login !== undefined);
    if (!written) {
      if (login !== undefined) await this.withinDeadline(this.client.srem(this.keys.principalIndex(login), delta.id));
      session.markGone();
      return false;
    }
    if (login !== undefined) await this.enforceLimit(session, login, delta, limit!);
    if (this.#wait) await this.withinDeadline(this.replicated(true));
    session.markSaved(delta);
    return true;
  }

  /** The session's script (CREATE for a new one; SAVE, with the RENAME on a standalone server), then the indexes; false when the session is gone. */
  private async saveInOneScript(delta: SessionDelta, isNew: boolean, renamed: boolean, filedByLimit: boolean): Promise<boolean> {
    const key = this.keys.session(delta.id);
    const written = isNew
      ? this.create(delta)
      : renamed
        ? this.scripts.rename(key, this.keys.session(delta.storedId!), this.saveArguments('rename', delta))
        : this.scripts.save(key, this.saveArguments('update', delta));
    const result = await this.withinDeadline(written);
    assertIdWasFree(result);
    if (result === 0) return false;
    if (renamed || delta.intervalChanged || delta.principalChange) await this.withinDeadline(this.updateIndexes(delta, renamed, isNew, filedByLimit));
    return true;
  }

  /**
   * maximumSessions 'reject', before the write: files the session under its principal if there is
   * room, or refuses the login. Sessions that ended unseen (a key deleted outside the library) do
   * not count: when the index is full, they are dropped and the question asked again.
   */
  private async reserveSlot(principal: string, delta: SessionDelta, max: number): Promise<void> {
    const index = this.keys.principalIndex(principal);
    const admit = () => this.withinDeadline(this.scripts.admit(index, delta.id, delta.storedId ?? '', max));
    if ((await admit()) === 1) return;
    const ids = await this.withinDeadline(this.client.smembers(index));
    const exists = await this.withinDeadline(Promise.all(ids.map((id) => this.client.exists(this.keys.session(id)))));
    const gone = ids.filter((_, i) => exists[i] === 0);
    if (gone.length > 0) {
      // A concurrent login filed but not written yet looks gone too: its own check after its write then refuses it.
      await this.withinDeadline(this.client.srem(index, ...gone));
      if ((await admit()) === 1) return;
    }
    throw new SessionLimitExceededError(max);
  }

  /**
   * maximumSessions, after the write. 'reject': the session must still be filed (a concurrent
   * login's check may have taken its place), or it is deleted and refused. 'expire-oldest': the
   * least recently used sessions beyond max are deleted (their sockets closed, on every instance).
   */
  private async enforceLimit(session: HttpSession<any>, principal: string, delta: SessionDelta, limit: MaximumSessions): Promise<void> {
    const index = this.keys.principalIndex(principal);
    if (limit.whenExceeded === 'reject') {
      if ((await this.withinDeadline(this.client.sismember(index, delta.id))) === 1) return;
      await this.deleteById(delta.id);
      session.markGone();
      throw new SessionLimitExceededError(limit.max);
    }
    const ids = (await this.withinDeadline(this.client.smembers(index))).filter((id) => id !== delta.id && id !== delta.storedId);
    const used = await this.withinDeadline(Promise.all(ids.map((id) => this.client.hget(this.keys.session(id), 'lastAccessedTime'))));
    const lastUsed = ids.flatMap((id, i) => [id, used[i] ?? '']);
    const evicted = await this.withinDeadline(this.scripts.trim(index, delta.id, delta.storedId ?? '', limit.max, lastUsed));
    await Promise.all(evicted.map((id) => this.deleteById(id)));
  }

  async deleteById(id: string): Promise<void> {
    if (!isValidSessionId(id)) return;
    this.changes.changedHere(id); // this instance's copy goes now and once deleted (before the caller goes on), not when the event arrives
    const storedPrincipal = await this.withinDeadline(
      this.scripts.delete(this.keys.session(id), this.keys.eventChannel, encodeEventMessage('deleted', id), PRINCIPAL_FIELD),
    ).finally(() => this.changes.changedHere(id));
    if (storedPrincipal === null) return;
    await this.withinDeadline(this.unfile(id, this.principalOf(storedPrincipal)));
    if (this.#wait) await this.withinDeadline(this.replicated(true));
  }

  /**
   * waitForReplicas: `result` once enough replicas have every write this connection made so far
   * (one connection, so the session's writes are among them); an error (a 503) when fewer confirm
   * in time. Sent after the write's reply, not pipelined with it: ioredis resends a script as EVAL
   * when the server answers NOSCRIPT (its script cache flushed), after a WAIT sent beside it.
   */
  private async replicated<R>(result: R): Promise<R> {
    const { replicas, timeoutMs } = this.#wait!;
    const confirmed = await (this.client as Redis).wait(replicas, timeoutMs);
    if (confirmed < replicas) throw new Error(`${confirmed} of ${replicas} replica(s) confirmed the write within ${timeoutMs} ms (waitForReplicas)`);
    return result;
  }

  async findByPrincipalName(principalName: string): Promise<HttpSession[]> {
    const indexKey = this.keys.principalIndex(principalName);
    const ids = await this.withinDeadline(this.client.smembers(indexKey));
    const loaded = await Promise.all(ids.map((id) => this.findById(id, { touch: false })));
    // The index may lag: sessions that ended while no instance could clean up, and sessions whose
    // principal two copies changed in turn (each filed itself under its own name). Only the
    // attribute itself says whose a session is, and logging out a user must never end another's.
    const sessions = loaded.map((session) => (session?.principalName === principalName ? session : undefined));
    const stale = ids.filter((_, i) => sessions[i] === undefined);
    if (stale.length > 0) await this.withinDeadline(this.client.srem(indexKey, ...stale));
    return sessions.filter((session): session is HttpSession => session !== undefined);
  }

  /** @internal For the expiry sweeper: drops an ended session's index entries. */
  unfile(id: string, principal: string | undefined): Promise<unknown> {
    const shard = this.keys.shardOf(id);
    return Promise.all([
      this.client.zrem(this.keys.expirations(shard), id),
      this.client.hdel(this.keys.expiringPrincipals(shard), id),
      principal === undefined ? undefined : this.client.srem(this.keys.principalIndex(principal), id),
    ]);
  }

  /** @internal The principal name held by a stored attribute value. */
  principalOf(storedValue: string | null | undefined): string | undefined {
    if (!storedValue) return undefined;
    try {
      const value = this.settings.serializer.deserialize(storedValue, PRINCIPAL_NAME_INDEX_NAME);
      return typeof value === 'string' && value.length > 0 ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** @internal The stored form of a principal name, as event messages carry it. */
  storedPrincipal(principal: string | undefined): string {
    return principal === undefined ? '' : this.settings.serializer.serialize(principal, PRINCIPAL_NAME_INDEX_NAME);
  }

  /** The absolute lifetime in ms as the scripts take it ('' for none). */
  private get lifetimeMs(): number | '' {
    const lifetime = this.settings.maxSessionLifetimeSeconds;
    return lifetime === undefined ? '' : lifetime * 1000;
  }

  private saveArguments(mode: string, delta: SessionDelta): (string | number)[] {
    const principal = delta.attributes.get(PRINCIPAL_NAME_INDEX_NAME) ?? '';
    const interval = mode === 'copy' || delta.intervalChanged ? String(delta.maxInactiveIntervalInSeconds) : '';
    // Event payloads only where the script may publish them.
    const head = [
      mode,
      this.keys.eventChannel,
      modeEventPayload(mode, delta),
      interval === '0' ? encodeEventMessage('expired', delta.id, principal) : '',
      interval,
      delta.creationTime,
      delta.lastAccessedTime,
      Date.now(),
      this.lifetimeMs,
    ];
    // A whole session goes to a key that does not exist yet: it has no fields to delete.
    return attributeFields(delta, head, delta.metadata && metadataFields(delta.metadata), mode !== 'copy');
  }

  /** Keeps the expiry index and the principal index in step after a successful save. */
  private async updateIndexes(delta: SessionDelta, renamed: boolean, isNew: boolean, filedByLimit = false): Promise<void> {
    if (delta.intervalChanged && delta.maxInactiveIntervalInSeconds === 0) {
      // The script deleted it and announced the expiry: left in the deadline index, the sweeper would announce it again.
      await Promise.all([this.unfileEnded(delta.id), renamed ? this.unfileEnded(delta.storedId!) : undefined]);
      return;
    }
    const work: Promise<unknown>[] = [];
    if (renamed) {
      work.push(this.unfile(delta.storedId!, delta.principalChange?.before));
      work.push(this.fileDeadline(delta.id, delta.lastAccessedTime, delta));
    } else if (delta.intervalChanged && !isNew) {
      // The deadline may now be earlier than the filed one: file it again, from the access the script
      // counted from or an earlier one (the index is only ever early, never late).
      work.push(this.fileDeadline(delta.id, delta.lastAccessedTime, delta));
    }
    const change = delta.principalChange;
    if (change) {
      const shard = this.keys.shardOf(delta.id);
      if (change.before !== undefined) work.push(this.client.srem(this.keys.principalIndex(change.before), delta.storedId ?? delta.id));
      if (change.after !== undefined) {
        // Under maximumSessions the limit's own scripts file the id: an SADD here could put back one they just took out.
        if (!filedByLimit) work.push(this.client.sadd(this.keys.principalIndex(change.after), delta.id));
        work.push(this.client.hset(this.keys.expiringPrincipals(shard), delta.id, change.after));
      } else {
        work.push(this.client.hdel(this.keys.expiringPrincipals(shard), delta.id));
      }
    }
    if (work.length > 0) await this.fileWhileAlive(delta.id, change?.after, work);
  }

  /**
   * Index writes land after the session's script, so a deletion can run in between: it cleans the
   * indexes before our entries arrive, which would then stay forever (or be reported as an expiry
   * by the sweeper). So we look again once they are in, and take them back if the session is gone.
   */
  private async fileWhileAlive(id: string, principal: string | undefined, writes: Promise<unknown>[]): Promise<void> {
    const key = this.keys.session(id);
    // One connection runs commands in order: EXISTS, queued after the writes, sees their aftermath in
    // the same round trip. A Cluster sends the writes to other nodes, so there we wait for them first.
    const exists = this.#isCluster
      ? await Promise.all(writes).then(() => this.client.exists(key))
      : ((await Promise.all([...writes, this.client.exists(key)])).at(-1) as number);
    if (exists === 0) await this.unfile(id, principal);
  }

  /** Drops the index entries of a session that is gone, its principal read from the deadline index's side map. */
  private async unfileEnded(id: string): Promise<void> {
    const principal = await this.client.hget(this.keys.expiringPrincipals(this.keys.shardOf(id)), id);
    await this.unfile(id, principal ?? undefined);
  }

  /** Files the session in the expiry index at the earlier of its idle deadline (counted `from`) and its absolute one. */
  private fileDeadline(id: string, from: number, times: Pick<SessionDelta, 'creationTime' | 'maxInactiveIntervalInSeconds'>): Promise<unknown> {
    const shardKey = this.keys.expirations(this.keys.shardOf(id));
    const deadline = sessionDeadline({ ...times, lastAccessedTime: from }, this.settings.maxSessionLifetimeSeconds);
    return deadline === Infinity ? this.client.zrem(shardKey, id) : this.client.zadd(shardKey, deadline, id);
  }

  /**
   * Cluster: the old and new keys live in different slots, so no script can rename atomically.
   * The session as stored now (with what other copies saved since this one was loaded), plus this
   * delta, is written under the new id first; then the old key is removed. At every moment at
   * least one id works, and loads never see a half-written session.
   */
  private async saveUnderNewIdAcrossSlots(delta: SessionDelta, filedByLimit: boolean): Promise<boolean> {
    const oldKey = this.keys.session(delta.storedId!);
    const current = parseHash(await this.withinDeadline(this.client.hgetall(oldKey)));
    if (!current || !isLive(current, Date.now(), this.settings.maxSessionLifetimeSeconds)) return false;
    const attributes = new Map<string, string | undefined>(current.attributes);
    for (const [name, text] of delta.attributes) {
      if (text === undefined) attributes.delete(name);
      else attributes.set(name, text);
    }
    const whole: SessionDelta = {
      ...delta,
      creationTime: current.creationTime,
      lastAccessedTime: current.lastAccessedTime,
      maxInactiveIntervalInSeconds: delta.intervalChanged ? delta.maxInactiveIntervalInSeconds : current.maxInactiveIntervalInSeconds,
      intervalChanged: true,
      attributes,
      metadata: delta.metadata ?? current.metadata ?? {},
    };
    const newKey = this.keys.session(delta.id);
    const written = await this.withinDeadline(this.scripts.save(newKey, this.saveArguments('copy', whole)));
    assertIdWasFree(written);
    // Told first, so that no instance reports the old key's deletion as the session's end.
    await this.withinDeadline(this.client.publish(this.keys.eventChannel, encodeRenameMessage(delta.storedId!, delta.id)));
    const removed = await this.withinDeadline(this.client.del(oldKey));
    if (removed === 0) {
      // Deleted (logout) or expired while we copied it: the copy must not outlive it.
      await this.withinDeadline(Promise.all([this.client.del(newKey), this.unfile(delta.storedId!, delta.principalChange?.before)]));
      return false;
    }
    await this.withinDeadline(this.updateIndexes({ ...delta, maxInactiveIntervalInSeconds: whole.maxInactiveIntervalInSeconds }, true, false, filedByLimit));
    return true;
  }

  /** A touch that failed only costs precision (the next due load touches again): logged at most once a minute. */
  private reportTouchFailure(error: unknown): void {
    this.#touchFailures.warn(`Refreshing a session's idle timer failed: ${error instanceof Error ? error.message : String(error)}`);
  }

  /**
   * @internal `operation` within the deadline; Redis errors become SessionStoreUnavailableError
   * (HTTP 503). Also for the sweeper and the event listener, which use the client directly.
   */
  withinDeadline<R>(operation: Promise<R>): Promise<R> {
    return withDeadline(operation, this.commandTimeoutMs).catch(storeUnavailable);
  }
}

/** The event SAVE publishes for its mode, when the session is watched: changed ('update'), renamed ('rename'). */
function modeEventPayload(mode: string, delta: SessionDelta): string {
  if (mode === 'update') return encodeChangedMessage(delta.id);
  return mode === 'rename' ? encodeRenameMessage(delta.storedId!, delta.id) : '';
}

/** A Redis error (or a missed deadline, already one) as SessionStoreUnavailableError. */
function storeUnavailable(error: unknown): never {
  throw error instanceof SessionStoreUnavailableError ? error : new SessionStoreUnavailableError(error);
}

/**
 * Appends a delta's attributes (and `extra` fields, named in full) to `head` as the save scripts
 * take them: how many to set, those field/value pairs, then the fields to delete (unless
 * `withDeletes` is false). One array, built in place: this is every write's path.
 */
function attributeFields(
  delta: SessionDelta,
  head: (string | number)[],
  extra?: [string, string | undefined][],
  withDeletes = true,
): (string | number)[] {
  const countAt = head.push(0) - 1;
  head[countAt] = appendFields(delta, head, extra);
  if (!withDeletes) return head;
  for (const [name, text] of delta.attributes) if (text === undefined) head.push(ATTRIBUTE_PREFIX + name);
  if (extra) for (const [field, text] of extra) if (text === undefined) head.push(field);
  return head;
}

/** Appends the field/value pairs a delta sets (attributes, then `extra` fields named in full) to `head`; returns how many. */
function appendFields(delta: SessionDelta, head: (string | number)[], extra?: [string, string | undefined][]): number {
  let sets = 0;
  for (const [name, text] of delta.attributes) {
    if (text === undefined) continue;
    head.push(ATTRIBUTE_PREFIX + name, text);
    sets++;
  }
  if (extra) {
    for (const [field, text] of extra) {
      if (text === undefined) continue;
      head.push(field, text);
      sets++;
    }
  }
  return sets;
}

/** The metadata as hash fields; undefined values are fields to delete. */
function metadataFields(metadata: SessionMetadata): [string, string | undefined][] {
  return [
    [METADATA_FIELDS.userAgent, metadata.userAgent],
    [METADATA_FIELDS.ip, metadata.ip],
    [METADATA_FIELDS.rememberMe, metadata.rememberMe ? '1' : undefined],
  ];
}

/** The save script answers -1 when the new id is already taken: with 168 random bits, a broken RNG. */
function assertIdWasFree(scriptResult: number): void {
  if (scriptResult === -1) throw new Error('Session id collision: a freshly generated id already exists');
}

/**
 * Reads Spring's hash layout (as ioredis gives HGETALL: an object, empty when the key is gone);
 * anything that is not a well-formed session counts as absent.
 */
function parseHash(hash: Record<string, string>): SessionData | undefined {
  const creationTime = Number(hash.creationTime);
  const lastAccessedTime = Number(hash.lastAccessedTime);
  const maxInactiveIntervalInSeconds = Number(hash.maxInactiveInterval);
  if (!Number.isFinite(creationTime) || !Number.isFinite(lastAccessedTime) || !Number.isInteger(maxInactiveIntervalInSeconds)) return undefined;
  const attributes = new Map<string, string>();
  for (const name of Object.keys(hash)) {
    if (name.startsWith(ATTRIBUTE_PREFIX)) attributes.set(name.slice(ATTRIBUTE_PREFIX.length), hash[name]);
  }
  const data: SessionData = { creationTime, lastAccessedTime, maxInactiveIntervalInSeconds, attributes };
  const { userAgent, ip, rememberMe } = METADATA_FIELDS;
  if (hash[userAgent] !== undefined || hash[ip] !== undefined || hash[rememberMe] !== undefined) {
    data.metadata = { userAgent: hash[userAgent], ip: hash[ip], rememberMe: hash[rememberMe] === '1' ? true : undefined };
  }
  return data;
}
