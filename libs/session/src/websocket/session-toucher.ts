import { touchThrottleMs } from '../core/session-data.js';
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

  /** Records a load that already touched the session (the handshake's). */
  touched(sessionId: string, intervalSeconds: number): void {
    this.#touched.set(sessionId, { at: Date.now(), intervalSeconds });
  }

  /**
   * True when the session's interval has passed: the caller must then `touch()` it. Synchronous,
   * so that the many messages between touches cost no promise. Marks the touch as started, so
   * that concurrent messages do not start a second one.
   */
  claimTouch(sessionId: string): boolean {
    const last = this.#touched.get(sessionId);
    const now = Date.now();
    if (last && now - last.at < touchThrottleMs(this.touchIntervalMs, last.intervalSeconds)) return false;
    this.#touched.set(sessionId, { at: now, intervalSeconds: last?.intervalSeconds ?? -1 });
    return true;
  }

  /** Touches the session (one round trip); resolves to false when it turned out to be gone. */
  async touch(sessionId: string): Promise<boolean> {
    const intervalSeconds = await this.repository.touchById(sessionId);
    if (intervalSeconds === undefined) {
      this.#touched.delete(sessionId);
      return false;
    }
    this.touched(sessionId, intervalSeconds);
    return true;
  }

  forget(sessionId: string): void {
    this.#touched.delete(sessionId);
  }
}
