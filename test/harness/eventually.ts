/**
 * Retries `check` (an assertion, or an operation that fails while something reconnects) until it
 * succeeds or `timeoutMs` has passed, then gives its result or its last error.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000, pauseMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
