import type { SessionRepository } from '../core/session-repository.js';

/**
 * Keeps sessions alive from socket traffic, cheaply: at most one store write per session per
 * interval, however many messages arrive on however many sockets of it (Spring's interceptor
 * writes on every frame; Socket.IO's recipe on every event). The interval is capped at a third of
 * the session's own max-inactive interval, so that a user who keeps chatting never expires.
 */
export class SessionToucher {
  /** Session id -> when it was last touched (ms), and its max-inactive interval. */
  readonly #touched = new Map<string, { at: number; intervalSeconds: number }>();

  constructor(
    private readonly repository: SessionRepository,
    private readonly touchIntervalMs: number,
  ) {}

  /** Records a load that already touched the session (handshake, @Session() in a handler). */
  touched(sessionId: string, intervalSeconds: number): void {
    this.#touched.set(sessionId, { at: Date.now(), intervalSeconds });
  }

  /**
   * Touches the session if its interval has passed. Resolves to false when the session turned
   * out to be gone; true otherwise (touched now, or recently enough).
   */
  async touchIfDue(sessionId: string): Promise<boolean> {
    const last = this.#touched.get(sessionId);
    const now = Date.now();
    if (last && now - last.at < this.effectiveIntervalMs(last.intervalSeconds)) return true;
    // Marked before the write: concurrent messages do not start a second one.
    this.#touched.set(sessionId, { at: now, intervalSeconds: last?.intervalSeconds ?? -1 });
    const session = await this.repository.findById(sessionId);
    if (!session) {
      this.#touched.delete(sessionId);
      return false;
    }
    this.touched(sessionId, session.maxInactiveIntervalInSeconds);
    return true;
  }

  forget(sessionId: string): void {
    this.#touched.delete(sessionId);
  }

  private effectiveIntervalMs(intervalSeconds: number): number {
    return intervalSeconds > 0 ? Math.min(this.touchIntervalMs, (intervalSeconds * 1000) / 3) : this.touchIntervalMs;
  }
}
