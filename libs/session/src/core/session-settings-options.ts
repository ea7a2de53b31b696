import { SessionOptionsError } from './errors.js';
import { FlushMode } from './flush-mode.js';
import { MAX_INTERVAL_SECONDS, type MaximumSessions, type SessionSettings } from './http-session.js';
import { rejectUnknownOptions } from './unknown-options.js';
import { SaveMode } from './save-mode.js';
import { JsonSessionSerializer, type SessionSerializer } from './session-serializer.js';

/**
 * The options that shape every session of a repository: the module's and InMemorySessionRepository's
 * alike (the module names some of them otherwise, e.g. `touchIntervalMs`). Every field is optional.
 */
export interface SessionSettingsOptions {
  /** Idle seconds before a new session expires (default 1800). Negative: never; 0: at once. */
  maxInactiveIntervalInSeconds?: number;
  /** Default FlushMode.ON_SAVE (or its string, `'IMMEDIATE'`). */
  flushMode?: FlushMode | `${FlushMode}`;
  /** Default SaveMode.ON_SET_ATTRIBUTE (or its string, `'ALWAYS'`). */
  saveMode?: SaveMode | `${SaveMode}`;
  /** Default a JsonSessionSerializer. */
  serializer?: SessionSerializer;
  /** Largest serialized attribute value `set()` accepts, in bytes (default 1 MiB). */
  maxAttributeBytes?: number;
  /** A load refreshes the idle timer at most once per this many seconds (capped at a third of the session's interval). */
  touchIntervalSeconds?: number;
  /** Every session ends this many seconds after its creation, however active (default: no absolute lifetime). */
  maxSessionLifetimeSeconds?: number;
  /** At most this many sessions per principal (default: no limit). */
  maximumSessions?: MaximumSessions;
}

const WHEN_EXCEEDED = ['expire-oldest', 'reject'] as const;

/** Fills in the defaults (the touch interval's is the caller's) and fails fast, naming the option, on anything invalid. */
export function resolveSessionSettings(
  options: SessionSettingsOptions,
  defaultTouchIntervalSeconds: number,
): { settings: SessionSettings; maxInactiveIntervalInSeconds: number } {
  const fail = (option: string, reason: string): never => {
    throw new SessionOptionsError(option, reason);
  };
  const interval = options.maxInactiveIntervalInSeconds ?? 1800;
  if (typeof interval !== 'number' || !Number.isInteger(interval)) {
    fail('maxInactiveIntervalInSeconds', `expected an integer (negative: never expires), got ${JSON.stringify(interval)}`);
  }
  const flushMode = (options.flushMode ?? FlushMode.ON_SAVE) as FlushMode;
  if (!Object.values(FlushMode).includes(flushMode)) fail('flushMode', `expected one of ${Object.values(FlushMode).join(', ')}, got ${JSON.stringify(flushMode)}`);
  const saveMode = (options.saveMode ?? SaveMode.ON_SET_ATTRIBUTE) as SaveMode;
  if (!Object.values(SaveMode).includes(saveMode)) fail('saveMode', `expected one of ${Object.values(SaveMode).join(', ')}, got ${JSON.stringify(saveMode)}`);
  const serializer = options.serializer ?? new JsonSessionSerializer();
  if (typeof serializer?.serialize !== 'function' || typeof serializer?.deserialize !== 'function') {
    fail('serializer', 'expected an object with serialize() and deserialize()');
  }
  const maxAttributeBytes = options.maxAttributeBytes ?? 1024 * 1024;
  if (typeof maxAttributeBytes !== 'number' || !Number.isInteger(maxAttributeBytes) || maxAttributeBytes < 1) {
    fail('maxAttributeBytes', `expected an integer >= 1, got ${JSON.stringify(maxAttributeBytes)}`);
  }
  const touchIntervalSeconds = options.touchIntervalSeconds ?? defaultTouchIntervalSeconds;
  if (typeof touchIntervalSeconds !== 'number' || !(touchIntervalSeconds >= 0) || !Number.isFinite(touchIntervalSeconds)) {
    fail('touchIntervalSeconds', `expected a number of seconds >= 0, got ${JSON.stringify(touchIntervalSeconds)}`);
  }
  const lifetime = options.maxSessionLifetimeSeconds;
  if (lifetime !== undefined && (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_INTERVAL_SECONDS)) {
    fail('maxSessionLifetimeSeconds', `expected a whole number of seconds between 1 and ${MAX_INTERVAL_SECONDS} (or no option: no absolute lifetime), got ${JSON.stringify(lifetime)}`);
  }
  const limit = options.maximumSessions;
  if (limit !== undefined) {
    if (typeof limit !== 'object' || limit === null) fail('maximumSessions', `expected { max: number, whenExceeded: 'expire-oldest' | 'reject' }, got ${JSON.stringify(limit)}`);
    rejectUnknownOptions(limit, { max: true, whenExceeded: true }, 'maximumSessions.');
    if (!Number.isInteger(limit.max) || limit.max < 1) fail('maximumSessions.max', `expected an integer >= 1, got ${JSON.stringify(limit.max)}`);
    if (!WHEN_EXCEEDED.includes(limit.whenExceeded)) {
      fail('maximumSessions.whenExceeded', `expected one of ${WHEN_EXCEEDED.join(', ')}, got ${JSON.stringify(limit.whenExceeded)}`);
    }
  }
  return {
    settings: {
      flushMode,
      saveMode,
      serializer,
      maxAttributeBytes,
      touchIntervalMs: touchIntervalSeconds * 1000,
      maxSessionLifetimeSeconds: lifetime,
      maximumSessions: limit && { max: limit.max, whenExceeded: limit.whenExceeded },
    },
    maxInactiveIntervalInSeconds: interval,
  };
}
