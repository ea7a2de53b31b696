/**
 * The handlers (controller routes and gateway messages) that ask for the session with `@Session()`,
 * recorded as the decorator is applied. The session filter wraps only those handlers (and requests
 * whose session a guard already opened); the socket adapter gives only those messages a session
 * context. Every other handler costs nothing beyond what Nest's interceptor chain costs.
 */
const decorated: { target: object; key: string | symbol }[] = [];
const handlers = new WeakSet<object>();

/** Parameter-decorator enhancer of `@Session()`: records the method it decorates. */
export function recordSessionParameter(target: object, key: string | symbol | undefined): void {
  if (key === undefined) return;
  decorated.push({ target, key });
  const method = (target as Record<string | symbol, unknown>)[key];
  if (typeof method === 'function') handlers.add(method);
}

/** True when the handler (Nest's `context.getHandler()`) has a `@Session()` parameter. */
export function hasSessionParameter(handler: object): boolean {
  return handlers.has(handler);
}

/** How many methods have been recorded, and each of them (for caches keyed on the count). */
export function sessionParameterMethods(): readonly { target: object; key: string | symbol }[] {
  return decorated;
}
