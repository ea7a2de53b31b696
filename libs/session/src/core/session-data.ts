/** A session as the repositories store it: times in epoch ms, attributes already serialized. */
export interface SessionData {
  creationTime: number;
  lastAccessedTime: number;
  maxInactiveIntervalInSeconds: number;
  attributes: Map<string, string>;
  /** What the session knows of its client and cookie (not attributes: the app never sees them as such). */
  metadata?: SessionMetadata;
  /** Set by a load that refreshed the idle timer (a persistent cookie is then re-issued). */
  touched?: boolean;
  /** The attributes map is shared with other session objects (a socket session cache's copy): a save copies it before changing it. */
  attributesShared?: boolean;
}

/**
 * Recorded when a session is created and when its id changes (a login): what a "your devices"
 * page shows. Never trusted for anything else. `rememberMe`: the session has a persistent cookie.
 */
export interface SessionMetadata {
  userAgent?: string;
  ip?: string;
  rememberMe?: boolean;
}

/** What a save must write: only what changed since the session was loaded or last saved. */
export interface SessionDelta {
  /** The id to store the session under. */
  id: string;
  /** The id it is stored under now; undefined for a session never stored. */
  storedId: string | undefined;
  creationTime: number;
  lastAccessedTime: number;
  maxInactiveIntervalInSeconds: number;
  intervalChanged: boolean;
  /** Attribute name -> serialized value, or undefined to remove the attribute. */
  attributes: Map<string, string | undefined>;
  /** @internal Lets the session tell which of its changes this delta carried. */
  changeCount: number;
  /** Present when the principal name changed: the names before and after. */
  principalChange?: { before: string | undefined; after: string | undefined };
  /** Present when the metadata changed: all of it, as it is now. */
  metadata?: SessionMetadata;
}

/** The time at which a session stops being valid; Infinity when it never expires. */
export function deadlineOf(lastAccessedTime: number, maxInactiveIntervalInSeconds: number): number {
  return maxInactiveIntervalInSeconds < 0 ? Infinity : lastAccessedTime + maxInactiveIntervalInSeconds * 1000;
}

type SessionTimes = Pick<SessionData, 'creationTime' | 'lastAccessedTime' | 'maxInactiveIntervalInSeconds'>;

/**
 * When a session ends: the earlier of its idle deadline and its absolute one (`creationTime` plus
 * `maxSessionLifetimeSeconds`, when the module sets a lifetime); Infinity when neither applies.
 */
export function sessionDeadline(times: SessionTimes, maxSessionLifetimeSeconds: number | undefined): number {
  const idle = deadlineOf(times.lastAccessedTime, times.maxInactiveIntervalInSeconds);
  return maxSessionLifetimeSeconds === undefined ? idle : Math.min(idle, times.creationTime + maxSessionLifetimeSeconds * 1000);
}

/** False once a stored session has ended: past its deadline, or with interval 0 (expired at once, whatever the clocks say). */
export function isLive(data: SessionTimes, now: number, maxSessionLifetimeSeconds?: number): boolean {
  return data.maxInactiveIntervalInSeconds !== 0 && now < sessionDeadline(data, maxSessionLifetimeSeconds);
}

/**
 * True when a load should refresh the session's idle timer: at most once per touch interval, which
 * is capped at a third of the session's own interval so that a session in use never expires.
 * Between touches, lastAccessedTime lags real use by less than that interval.
 */
export function isTouchDue(data: SessionData, now: number, touchIntervalMs: number): boolean {
  return now - data.lastAccessedTime >= touchThrottleMs(touchIntervalMs, data.maxInactiveIntervalInSeconds);
}

/** The time between two touches of a session: the touch interval, capped at a third of the session's own interval. */
export function touchThrottleMs(touchIntervalMs: number, maxInactiveIntervalInSeconds: number): number {
  return maxInactiveIntervalInSeconds > 0 ? Math.min(touchIntervalMs, (maxInactiveIntervalInSeconds * 1000) / 3) : touchIntervalMs;
}
