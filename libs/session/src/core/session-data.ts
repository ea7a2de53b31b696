/** A session as the repositories store it: times in epoch ms, attributes already serialized. */
export interface SessionData {
  creationTime: number;
  lastAccessedTime: number;
  maxInactiveIntervalInSeconds: number;
  attributes: Map<string, string>;
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
}

/** The time at which a session stops being valid; Infinity when it never expires. */
export function deadlineOf(lastAccessedTime: number, maxInactiveIntervalInSeconds: number): number {
  return maxInactiveIntervalInSeconds < 0 ? Infinity : lastAccessedTime + maxInactiveIntervalInSeconds * 1000;
}

/** False once a stored session has ended: past its deadline, or with interval 0 (expired at once, whatever the clocks say). */
export function isLive(data: SessionData, now: number): boolean {
  return data.maxInactiveIntervalInSeconds !== 0 && now < deadlineOf(data.lastAccessedTime, data.maxInactiveIntervalInSeconds);
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
