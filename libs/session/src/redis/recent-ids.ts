/** The pruning timer fires at most this often. */
const PRUNE_GRANULARITY_MS = 1000;

/**
 * Ids seen within the last `windowMs`: enough to tell a second report of the same thing from a
 * first, without growing for ever. Pruned on insert, and by a timer once the oldest entry's window
 * has passed; entries are in insertion (= time) order.
 */
export class RecentIds {
  readonly #seenAt = new Map<string, number>();
  #pruning: NodeJS.Timeout | undefined;

  constructor(private readonly windowMs: number) {}

  /** How many ids are held (some may be past their window until the next prune). */
  get size(): number {
    return this.#seenAt.size;
  }

  has(id: string): boolean {
    const at = this.#seenAt.get(id);
    return at !== undefined && Date.now() - at < this.windowMs;
  }

  add(id: string): void {
    const now = Date.now();
    this.#seenAt.delete(id); // re-inserted at the end, keeping the order
    this.#seenAt.set(id, now);
    this.prune(now);
    // Pruning on insert alone kept the last burst until the next insert, for good on an instance
    // where ends stopped coming: 10,000 ids (~1.5 MB) after a mass expiry (bench/sockets-scale.js).
    // One timer for the whole map, armed for its oldest entry (not one per id), and at most one
    // prune a second: an id goes within a second of its window.
    this.#pruning ??= setTimeout(() => this.onTimer(), this.windowMs).unref();
  }

  /** Forgets every id (and the timer). */
  clear(): void {
    clearTimeout(this.#pruning);
    this.#pruning = undefined;
    this.#seenAt.clear();
  }

  private onTimer(): void {
    this.#pruning = undefined;
    const now = Date.now();
    this.prune(now);
    const oldest = this.#seenAt.values().next();
    if (!oldest.done) this.#pruning = setTimeout(() => this.onTimer(), Math.max(PRUNE_GRANULARITY_MS, oldest.value + this.windowMs - now)).unref();
  }

  private prune(now: number): void {
    for (const [oldId, at] of this.#seenAt) {
      if (now - at < this.windowMs) break;
      this.#seenAt.delete(oldId);
    }
  }
}
