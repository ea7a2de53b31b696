import { Injectable } from '@nestjs/common';
import type { HttpSession } from '../core/http-session.js';
import { isValidPrincipalName } from '../core/principal.js';
import { SessionRepository } from '../core/session-repository.js';
import { isWellFormedHandle, sessionHandleOf } from './session-handle.js';
import { sessionInfoOf, type SessionInfo } from './session-info.js';

/**
 * Every session of a user, visible and revocable (Spring Security's SessionRegistry; OWASP asks
 * for both): a "your devices" page, "sign out everywhere else", all sessions ended on a password
 * change. Sessions are named by handles, never by their ids. A revoked session ends as a logout
 * does: on every instance, its sockets told `session:destroyed` and closed, a `deleted` event.
 *
 * A principal that is not a non-empty string of at most 1024 characters has no sessions: the
 * methods answer `[]`, `false` or `0` for it without asking the store.
 */
@Injectable()
export class SessionRegistry {
  constructor(private readonly repository: SessionRepository) {}

  /** The live sessions of `principal`, newest first; `current` (the caller's own) is marked. */
  async getSessions(principal: string, current?: HttpSession): Promise<SessionInfo[]> {
    if (!isValidPrincipalName(principal)) return [];
    const sessions = await this.repository.findByPrincipalName(principal);
    return sessions.map((session) => sessionInfoOf(session, current)).sort((a, b) => b.creationTime - a.creationTime);
  }

  /** Ends the session of `principal` that `handle` names; false when it names no live session of theirs. */
  async revoke(principal: string, handle: string): Promise<boolean> {
    if (!isValidPrincipalName(principal) || !isWellFormedHandle(handle)) return false;
    const sessions = await this.repository.findByPrincipalName(principal);
    const session = sessions.find((candidate) => sessionHandleOf(candidate.id) === handle);
    if (session === undefined) return false;
    await this.repository.deleteById(session.id);
    return true;
  }

  /** "Sign out everywhere else" (and what a password change calls): ends every other session of `current`'s principal. */
  async revokeOthers(current: HttpSession): Promise<number> {
    const principal = current.principalName;
    if (principal === undefined || !isValidPrincipalName(principal)) return 0;
    const others = (await this.repository.findByPrincipalName(principal)).filter(
      (session) => session.id !== current.id && session.id !== current.storedId,
    );
    await Promise.all(others.map((session) => this.repository.deleteById(session.id)));
    return others.length;
  }

  /** Ends every session of `principal`; resolves to how many. */
  revokeAll(principal: string): Promise<number> {
    if (!isValidPrincipalName(principal)) return Promise.resolve(0);
    return this.repository.deleteByPrincipalName(principal);
  }
}
