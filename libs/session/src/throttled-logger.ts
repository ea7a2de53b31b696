import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from './session.constants.js';

/** How often a recurring failure is logged. */
const ONCE_A_MINUTE_MS = 60_000;

/**
 * Logs a recurring failure at most once a minute: while Redis is away, every request, socket
 * event or sweeper tick would otherwise log the same thing (each request still gets its own 503).
 */
export class ThrottledLogger {
  readonly #logger = new Logger(LOGGER_CONTEXT);
  #lastLogged = -Infinity;

  warn(message: string): void {
    if (this.isDue()) this.#logger.warn(message);
  }

  error(message: string): void {
    if (this.isDue()) this.#logger.error(message);
  }

  private isDue(): boolean {
    const now = Date.now();
    if (now - this.#lastLogged < ONCE_A_MINUTE_MS) return false;
    this.#lastLogged = now;
    return true;
  }
}
