import { ThrottledLogger } from '../throttled-logger.js';
import { announceSessionEnd } from './announce-session-end.js';
import type { RedisSessionRepository } from './redis-session-repository.js';

const BATCH = 500;
/** A claimed batch is hidden from other sweepers this long; a sweeper that dies is retried after it. */
const LEASE_MS = 5000;
/** Bounds the work of one tick, so a backlog is drained over several ticks instead of blocking. */
const MAX_BATCHES_PER_TICK = 20;

/**
 * Finds sessions past their deadline and reports each expiry once, within a tick of it.
 *
 * Redis' own expiry notices keys late when every key has a TTL (measured: p50 21 s among 10,000
 * sessions), so each instance sweeps a sorted set of deadlines instead. Touches do not update that
 * index (the request path stays one round trip): a due entry is checked against the session's real
 * TTL and filed again if the session was used meanwhile; only truly idle sessions expire. Claims
 * are atomic, so instances sweeping at the same time never report an expiry twice.
 */
export class ExpirySweeper {
  readonly #errors = new ThrottledLogger();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(
    private readonly repository: RedisSessionRepository,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass over every shard; resolves to the number of sessions found expired. */
  async sweep(): Promise<number> {
    const { scripts, keys } = this.repository;
    let expired = 0;
    for (let shard = 0; shard < keys.expirationShards; shard++) {
      for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch++) {
        // Each step within the command timeout: a Redis that stops answering fails the pass, which is retried next tick.
        const due = await this.repository.withinDeadline(scripts.claimDue(keys.expirations(shard), Date.now(), BATCH, LEASE_MS));
        const settled = await this.repository.withinDeadline(Promise.all(due.map((id) => this.settle(id))));
        expired += settled.filter(Boolean).length;
        if (due.length < BATCH) break;
      }
    }
    return expired;
  }

  /** Expires a due session if it is still idle, or files it under its real deadline. */
  private async settle(id: string): Promise<boolean> {
    const { client, keys } = this.repository;
    const shard = keys.shardOf(id);
    // PTTL also makes Redis drop the key at once if its TTL has passed.
    const ttl = await client.pttl(keys.session(id));
    if (ttl >= 0) {
      await client.zadd(keys.expirations(shard), 'XX', Date.now() + ttl, id);
      return false;
    }
    if (ttl === -1) {
      await client.zrem(keys.expirations(shard), id); // never expires (negative interval)
      return false;
    }
    // Deleted meanwhile, or an instance's keyspace listener announced it first: false.
    return announceSessionEnd(this.repository, 'expired', id);
  }

  private schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.sweep()
        .then(() => undefined, (error: unknown) => this.logError(error))
        .finally(() => {
          this.#running = undefined;
          this.schedule();
        });
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Redis being down is logged at most once a minute; the sweeper retries every tick. */
  private logError(error: unknown): void {
    this.#errors.warn(`Expiry sweep failed (will retry): ${error instanceof Error ? error.message : String(error)}`);
  }
}
