import { SessionStoreUnavailableError } from '../core/errors.js';

/** How often deadlines are checked: a timed-out operation fails at most this much late. */
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
 * `operation`, failing with SessionStoreUnavailableError (a 503 over HTTP) once `timeoutMs` has
 * passed. The library's deadline for Redis, in place of ioredis' `commandTimeout`: that one costs
 * every command a timer of its own (measured: ~3% of a request's throughput), and with
 * auto-pipelining starts only once the command's pipeline is sent, behind the one in flight, so a
 * dead Redis was measured to cost a request twice the timeout. Here the clock starts when the
 * operation does. The operation itself is not cancelled.
 */
export function withDeadline<T>(operation: Promise<T>, timeoutMs: number): Promise<T> {
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
