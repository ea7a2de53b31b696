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

/**
 * A store operation the request waits for, failing with a 503 once `timeoutMs` has passed.
 * The client's own command timeout is not enough: with auto-pipelining, a command waits behind the
 * pipeline in flight (the sweeper's, another request's) before its own timer starts, so a dead
 * Redis was measured to cost a request twice the timeout. The operation itself is not cancelled.
 */
export async function storeOperation<T>(operation: () => Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SessionStoreUnavailableError(new Error(`no answer within ${timeoutMs} ms`))), timeoutMs);
  });
  try {
    return await Promise.race([operation(), deadline]);
  } catch (error) {
    throw toHttpError(error);
  } finally {
    clearTimeout(timer);
  }
}
