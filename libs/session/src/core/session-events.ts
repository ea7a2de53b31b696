import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';

export type SessionEventType = 'created' | 'deleted' | 'expired';

export interface SessionEvent {
  type: SessionEventType;
  sessionId: string;
  /** The session's principal name, when known (set through `PRINCIPAL_NAME_INDEX_NAME`). */
  principalName?: string;
}

/**
 * Every session's creation, deletion and expiry, on every instance that shares the store,
 * whichever instance caused it. Subscribe like any RxJS observable.
 */
@Injectable()
export class SessionEvents extends Observable<SessionEvent> {
  readonly #subject: Subject<SessionEvent>;

  constructor() {
    const subject = new Subject<SessionEvent>();
    super((subscriber) => subject.subscribe(subscriber));
    this.#subject = subject;
  }

  /** @internal Emitted by the store's event listener. */
  emit(event: SessionEvent): void {
    this.#subject.next(event);
  }

  /** @internal */
  complete(): void {
    this.#subject.complete();
  }
}
