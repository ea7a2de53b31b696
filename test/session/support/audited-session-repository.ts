import { InMemorySessionRepository, SessionRepository, type HttpSession, type SessionEvent } from 'nestjs-redis-session';
import type { Observable } from 'rxjs';

/**
 * A repository as a user of the library would write one, from its public API only (nothing here
 * imports from libs/): an auditing decorator that records every call and hands it to the store it
 * wraps, a public InMemorySessionRepository unless told otherwise. Its events are the wrapped
 * store's, so that given as the `store` option they reach SessionEvents.
 */

export type AuditedMethod = 'createSession' | 'findById' | 'save' | 'deleteById' | 'findByPrincipalName';

export interface AuditedCall {
  method: AuditedMethod;
  /** The session id (createSession: the new session's; save: the session's at the call), or the principal name. */
  key: string;
}

export class AuditedSessionRepository extends SessionRepository {
  /** Every call, in order. */
  readonly calls: AuditedCall[] = [];

  constructor(readonly delegate: SessionRepository = new InMemorySessionRepository()) {
    super();
  }

  override get events(): Observable<SessionEvent> | undefined {
    return this.delegate.events;
  }

  createSession<T extends Record<string, any> = Record<string, any>>(): HttpSession<T> {
    const session = this.delegate.createSession<T>();
    this.record('createSession', session.id);
    return session;
  }

  findById<T extends Record<string, any> = Record<string, any>>(id: string, options?: { touch?: boolean }): Promise<HttpSession<T> | undefined> {
    this.record('findById', id);
    return this.delegate.findById<T>(id, options);
  }

  save(session: HttpSession<any>): Promise<boolean> {
    this.record('save', session.id);
    return this.delegate.save(session);
  }

  deleteById(id: string): Promise<void> {
    this.record('deleteById', id);
    return this.delegate.deleteById(id);
  }

  findByPrincipalName(principalName: string): Promise<HttpSession[]> {
    this.record('findByPrincipalName', principalName);
    return this.delegate.findByPrincipalName(principalName);
  }

  /** The calls of one method, e.g. to count them. */
  callsTo(method: AuditedMethod): AuditedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  private record(method: AuditedMethod, key: string): void {
    this.calls.push({ method, key });
  }
}
