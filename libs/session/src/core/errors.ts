import { ConflictException, ServiceUnavailableException } from '@nestjs/common';

/** A value given to `HttpSession.set` that the serializer cannot store faithfully. */
export class SessionAttributeError extends TypeError {
  constructor(attribute: string, reason: string) {
    super(`Session attribute "${attribute}" cannot be stored: ${reason}`);
    this.name = 'SessionAttributeError';
  }
}

/** A use of a session that was invalidated (Spring: IllegalStateException). */
export class SessionInvalidatedError extends Error {
  constructor(id: string) {
    super(`Session ${id.slice(0, 6)}… was invalidated; it can no longer be used`);
    this.name = 'SessionInvalidatedError';
  }
}

/**
 * The session store did not answer (Redis down, paused or timing out). An HTTP 503 wherever it
 * surfaces in a request (loading, saving, a handler's own `invalidate()`), with a body that says
 * so; what Redis said is the `cause`.
 */
export class SessionStoreUnavailableError extends ServiceUnavailableException {
  constructor(cause: unknown) {
    super('The session store is unavailable; please retry shortly', { cause });
    this.name = 'SessionStoreUnavailableError';
  }
}

/**
 * A login would give its user more sessions than `maximumSessions.max` allows, with
 * `whenExceeded: 'reject'`: an HTTP 409 wherever it surfaces. Nothing of the session was stored,
 * and the user's other sessions are untouched.
 */
export class SessionLimitExceededError extends ConflictException {
  constructor(readonly max: number) {
    super(`This account already has the most sessions allowed (${max}); sign out on another device first`);
    this.name = 'SessionLimitExceededError';
  }
}

/** A bad option given to EnableRedisHttpSession.forRoot: thrown at start-up. */
export class SessionOptionsError extends Error {
  constructor(option: string, reason: string) {
    super(`EnableRedisHttpSession: invalid option "${option}": ${reason}`);
    this.name = 'SessionOptionsError';
  }

  /** An option name the module does not know, with the valid one it most likely meant. */
  static unknown(option: string, nearest: string | undefined): SessionOptionsError {
    const error = new SessionOptionsError(option, 'unknown option');
    error.message = `EnableRedisHttpSession: unknown option "${option}"${nearest === undefined ? '' : ` (did you mean "${nearest}"?)`}`;
    return error;
  }
}
