import { HttpSession, type SessionSettings } from './http-session.js';
import type { SessionData } from './session-data.js';
import { SessionRepository } from './session-repository.js';

/** What both repositories share: making sessions bound to themselves. */
export abstract class BaseSessionRepository extends SessionRepository {
  protected constructor(
    protected readonly settings: SessionSettings,
    protected readonly defaultMaxInactiveIntervalInSeconds: number,
  ) {
    super();
  }

  createSession<T extends Record<string, any>>(): HttpSession<T> {
    const now = Date.now();
    return new HttpSession<T>(this, this.settings, undefined, {
      creationTime: now,
      lastAccessedTime: now,
      maxInactiveIntervalInSeconds: this.defaultMaxInactiveIntervalInSeconds,
      attributes: new Map(),
    });
  }

  /** Writes what changed, after any write of the same session object still under way; an invalidated session is never written. */
  save(session: HttpSession<any>): Promise<boolean> {
    return session.writeInOrder(() => {
      if (session.isInvalidated) return Promise.resolve(false);
      try {
        return this.write(session);
      } catch (error) {
        return Promise.reject(error); // e.g. a value that no longer serializes: the caller's rejection, never a throw
      }
    });
  }

  /** Stores the session's delta; called one at a time per session object (may throw or reject). */
  protected abstract write(session: HttpSession<any>): Promise<boolean>;

  protected restore<T extends Record<string, any>>(id: string, data: SessionData): HttpSession<T> {
    return new HttpSession<T>(this, this.settings, id, data);
  }
}
