import type { HttpSession } from '../core/http-session.js';
import { sessionHandleOf } from './session-handle.js';

/** One of a user's sessions, as a "your devices" page shows it (times in epoch ms). */
export interface SessionInfo {
  /** Names the session to `SessionRegistry.revoke()`; never the session id, nor reversible to it. */
  handle: string;
  /** True for the session the list was asked for with (`getSessions(principal, current)`). */
  current: boolean;
  creationTime: number;
  lastAccessedTime: number;
  /** The earlier of the idle and the absolute deadline; null when neither applies. */
  expiresAt: number | null;
  /** Recorded at creation and at login (bounded, for display only). */
  userAgent?: string;
  ip?: string;
}

/** What a page may see of a session. */
export function sessionInfoOf(session: HttpSession, current: HttpSession | undefined): SessionInfo {
  const info: SessionInfo = {
    handle: sessionHandleOf(session.id),
    current: current !== undefined && (current.id === session.id || current.storedId === session.id),
    creationTime: session.creationTime,
    lastAccessedTime: session.lastAccessedTime,
    expiresAt: session.expiresAt,
  };
  if (session.userAgent !== undefined) info.userAgent = session.userAgent;
  if (session.ip !== undefined) info.ip = session.ip;
  return info;
}
