/**
 * Ids seen within the last `windowMs`: enough to tell a second report of the same thing from a
 * first, without growing for ever. Pruned on insert; entries are in insertion (= time) order.
 */
export class RecentIds {
  readonly #seenAt = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  has(id: string): boolean {
    const at = this.#seenAt.get(id);
    return at !== undefined && Date.now() - at < this.windowMs;
  }

  add(id: string): void {
    const now = Date.now();
    this.#seenAt.delete(id); // re-inserted at the end, keeping the order
    this.#seenAt.set(id, now);
    for (const [oldId, at] of this.#seenAt) {
      if (now - at < this.windowMs) break;
      this.#seenAt.delete(oldId);
    }
  }
}
