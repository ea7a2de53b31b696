import type { SessionInfo } from 'nestjs-redis-session';
import { deviceLabel } from './device-label.js';

/** One row of "Your sessions" as `GET /api/sessions` sends it: no session id, no raw User-Agent. */
export interface SessionView {
  /** Names the session to `POST /api/sessions/:handle/revoke`; not the session id, nor reversible to it. */
  handle: string;
  /** The session this request came with ("This device"). */
  current: boolean;
  /** "Chrome on Linux", from the User-Agent recorded at sign-in. */
  device: string;
  /** ISO 8601, as the chat's other times. */
  createdAt: string;
  lastActiveAt: string;
  /** When the session ends unless used again; null when it never would. */
  expiresAt: string | null;
}

export function sessionViewOf(info: SessionInfo): SessionView {
  return {
    handle: info.handle,
    current: info.current,
    device: deviceLabel(info.userAgent),
    createdAt: new Date(info.creationTime).toISOString(),
    lastActiveAt: new Date(info.lastAccessedTime).toISOString(),
    expiresAt: info.expiresAt === null ? null : new Date(info.expiresAt).toISOString(),
  };
}
