import { ServiceUnavailableException } from '@nestjs/common';
import { SessionStoreUnavailableError } from '../core/errors.js';

/**
 * The store being unreachable is the client's 503, with a body that says so, wherever it surfaced
 * (loading, committing, or a handler's own `invalidate()` / `save()`); anything else stays as it is.
 */
export function toHttpError(error: unknown): unknown {
  if (error instanceof SessionStoreUnavailableError) {
    return new ServiceUnavailableException('The session store is unavailable; please retry shortly', { cause: error });
  }
  return error;
}

/** Store operations in flight, each with the time it must have settled by. */
const inFlight = new Set<{ deadline: number; fail: (error: unknown) => void }>();
/** One timer for all of them (not one per request), running only while some are in flight. */
let watchdog: NodeJS.Timeout | undefined;
const WATCHDOG_PERIOD_MS = 25;

function checkDeadlines(): void {
  const now = Date.now();
  for (const operation of inFlight) {
    if (operation.deadline > now) continue;
    inFlight.delete(operation);
    operation.fail(new SessionStoreUnavailableError(new Error('no answer in time')));
  }
  if (inFlight.size === 0) {
    clearInterval(watchdog);
    watchdog = undefined;
  }
}

/**
 * A store operation the request waits for, failing with a 503 once `timeoutMs` has passed.
 * The client's own command timeout is not enough: with auto-pipelining, a command waits behind the
 * pipeline in flight (the sweeper's, another request's) before its own timer starts, so a dead
 * Redis was measured to cost a request twice the timeout. The operation itself is not cancelled.
 */
export function storeOperation<T>(operation: () => Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const entry = { deadline: Date.now() + timeoutMs, fail: (error: unknown) => reject(toHttpError(error)) };
    inFlight.add(entry);
    watchdog ??= setInterval(checkDeadlines, WATCHDOG_PERIOD_MS).unref();
    operation().then(
      (value) => {
        inFlight.delete(entry);
        resolve(value);
      },
      (error: unknown) => {
        inFlight.delete(entry);
        entry.fail(error);
      },
    );
  });
}
