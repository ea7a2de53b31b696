import { MESSAGE_METADATA } from '@nestjs/websockets/constants.js';
import { sessionParameterMethods } from '../decorators/session-parameters.js';

/**
 * Which gateway messages have a handler that asks for the session (`@Session()`), so that the
 * adapter gives only those a session context and a commit. Every other message costs nothing
 * beyond the throttled touch. Measured (bench/ws-throughput.js, Node 20), a context and a commit
 * on every message made an echo gateway 0.73-0.93x as fast as on the plain IoAdapter (+7 to +23 us
 * of server CPU per message: AsyncLocalStorage turns on promise hooks process-wide before Node 24).
 *
 * The adapter sees a handler's message pattern, never its method, so the methods `@Session()`
 * decorates have their patterns read (from `@SubscribeMessage()`) when needed.
 * A pattern shared by a handler that reads the session and one that does not gets the context
 * for both: slower, never wrong.
 */
let cached: { recorded: number; patterns: Set<unknown> } | undefined;

/** The message patterns whose handlers ask for the session. */
export function sessionReadingMessages(): ReadonlySet<unknown> {
  const methods = sessionParameterMethods();
  if (cached?.recorded === methods.length) return cached.patterns;
  const patterns = new Set<unknown>();
  for (const { target, key } of methods) {
    const method = (target as Record<string | symbol, unknown>)[key];
    const pattern = typeof method === 'function' ? Reflect.getMetadata(MESSAGE_METADATA, method) : undefined;
    if (pattern !== undefined) patterns.add(pattern);
  }
  cached = { recorded: methods.length, patterns };
  return patterns;
}
