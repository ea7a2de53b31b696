import { SessionStoreUnavailableError } from '../core/errors.js';

/** How often deadlines are checked: a timed-out request gets its 503 at most this much late. */
const WATCHDOG_PERIOD_MS = 25;

/**
 * The operations started during one watchdog period (they share a deadline, to within that
 * period): the rejections of those still waiting, and how many there are.
 */
interface Batch {
  readonly openedAt: number;
  readonly deadline: number;
  readonly waiting: (((error: unknown) => void) | undefined)[];
  pending: number;
}

/**
 * Batches with operations still waiting. Operations are grouped rather than registered one by
 * one in a long-lived collection: measured, a Set (or queue) of every request's operation cost
 * ~6 us of garbage collection per request, as each entry was a young object held by an old one.
 * A batch is young, is dropped as soon as its operations have settled, and costs one such link.
 */
let batches: Batch[] = [];
let watchdog: NodeJS.Timeout | undefined;

function batchFor(timeoutMs: number): Batch {
  const now = Date.now();
  const last = batches.at(-1);
  if (last !== undefined && now - last.openedAt < WATCHDOG_PERIOD_MS && last.deadline - last.openedAt === timeoutMs) return last;
  const batch: Batch = { openedAt: now, deadline: now + timeoutMs, waiting: [], pending: 0 };
  batches.push(batch);
  watchdog ??= setInterval(checkDeadlines, WATCHDOG_PERIOD_MS).unref();
  return batch;
}

function checkDeadlines(): void {
  const now = Date.now();
  const open: Batch[] = [];
  for (const batch of batches) {
    if (batch.pending > 0 && batch.deadline <= now) {
      const timedOut = new SessionStoreUnavailableError(new Error('no answer in time'));
      const { waiting } = batch;
      for (let slot = 0; slot < waiting.length; slot++) {
        const fail = waiting[slot];
        waiting[slot] = undefined;
        fail?.(timedOut);
      }
      batch.pending = 0;
    }
    if (batch.pending > 0 || now - batch.openedAt < WATCHDOG_PERIOD_MS) open.push(batch);
  }
  batches = open;
  if (batches.length === 0) {
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
export function storeOperation<T>(operation: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const batch = batchFor(timeoutMs);
    const slot = batch.waiting.push(reject) - 1;
    batch.pending++;
    const settle = () => {
      if (batch.waiting[slot] === undefined) return; // timed out already
      batch.waiting[slot] = undefined;
      batch.pending--;
    };
    operation.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}
