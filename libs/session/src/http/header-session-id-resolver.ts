import { SessionOptionsError } from '../core/errors.js';
import { isValidSessionId } from '../core/session-id.js';
import { requestHeader, setResponseHeader, type HttpExchange } from './http-exchange.js';
import type { SessionIdResolver } from './session-id-resolver.js';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The id in a header (`X-Auth-Token` by default), for API clients without cookies, as Spring's
 * HeaderHttpSessionIdResolver: the id comes back in the same header when created or changed,
 * and the header is sent empty when the session ends.
 */
export class HeaderSessionIdResolver implements SessionIdResolver {
  readonly #requestHeaderName: string;

  constructor(private readonly headerName = 'X-Auth-Token') {
    if (typeof headerName !== 'string' || !HEADER_NAME.test(headerName)) {
      throw new SessionOptionsError('headerName', `${JSON.stringify(headerName)} is not a valid header name`);
    }
    this.#requestHeaderName = headerName.toLowerCase();
  }

  resolveSessionIds(exchange: HttpExchange): readonly string[] {
    const value = requestHeader(exchange, this.#requestHeaderName)?.trim();
    return isValidSessionId(value) ? [value] : [];
  }

  setSessionId(exchange: HttpExchange, id: string): void {
    setResponseHeader(exchange, this.headerName, id);
  }

  expireSession(exchange: HttpExchange): void {
    setResponseHeader(exchange, this.headerName, '');
  }
}
