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

  protected restore<T extends Record<string, any>>(id: string, data: SessionData): HttpSession<T> {
    return new HttpSession<T>(this, this.settings, id, data);
  }
}
