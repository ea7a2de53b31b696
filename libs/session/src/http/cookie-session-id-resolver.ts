import { isValidSessionId, SESSION_ID_LENGTH } from '../core/session-id.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { isSecure, requestHeader, setResponseHeader, type HttpExchange } from './http-exchange.js';
import type { SessionIdResolver } from './session-id-resolver.js';

/** Standard, padded base64 of an id (28 characters: 38 of base64 and '=='). */
const PADDING = (3 - (SESSION_ID_LENGTH % 3)) % 3;
const BASE64_ID = new RegExp(`^[A-Za-z0-9+/]{${Math.ceil(SESSION_ID_LENGTH / 3) * 4 - PADDING}}={${PADDING}}$`);
/** A cookie header longer than this is not read at all (browsers send at most ~8 KB). */
const MAX_COOKIE_HEADER = 16 * 1024;

/**
 * The `SESSION` cookie, as Spring's CookieHttpSessionIdResolver + DefaultCookieSerializer:
 * base64 value, Path=/, HttpOnly, SameSite=Lax, Secure on https, no Max-Age unless asked.
 * When the request carries several cookies of that name, each is a candidate, in order.
 */
export class CookieSessionIdResolver implements SessionIdResolver {
  constructor(private readonly cookie: ResolvedSessionOptions['cookie']) {}

  resolveSessionIds(exchange: HttpExchange): string[] {
    const header = requestHeader(exchange, 'cookie');
    if (!header || header.length > MAX_COOKIE_HEADER) return [];
    const ids: string[] = [];
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim() !== this.cookie.name) continue;
      let value = pair.slice(eq + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      const id = this.decode(value);
      if (id !== undefined && !ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  setSessionId(exchange: HttpExchange, id: string): void {
    const value = this.cookie.base64 ? Buffer.from(id, 'utf8').toString('base64') : id;
    const maxAge = this.cookie.maxAgeSeconds;
    const lifetime = maxAge === undefined ? [] : [`Max-Age=${maxAge}`, `Expires=${new Date(Date.now() + maxAge * 1000).toUTCString()}`];
    this.write(exchange, value, lifetime);
  }

  expireSession(exchange: HttpExchange): void {
    this.write(exchange, '', ['Max-Age=0', `Expires=${new Date(0).toUTCString()}`]);
  }

  private write(exchange: HttpExchange, value: string, lifetime: string[]): void {
    const { name, path, domain, httpOnly, sameSite, secure } = this.cookie;
    const parts = [`${name}=${value}`, ...lifetime, `Path=${path}`];
    if (domain) parts.push(`Domain=${domain}`);
    if (secure === true || (secure === 'auto' && isSecure(exchange))) parts.push('Secure');
    if (httpOnly) parts.push('HttpOnly');
    parts.push(`SameSite=${sameSite}`);
    setResponseHeader(exchange, 'Set-Cookie', parts.join('; '), name);
  }

  private decode(value: string): string | undefined {
    if (!this.cookie.base64) return isValidSessionId(value) ? value : undefined;
    if (!BASE64_ID.test(value)) return undefined;
    const id = Buffer.from(value, 'base64').toString('utf8');
    // Only the spelling we write: the decoder ignores the spare bits before '=', so other values would name the same id.
    return isValidSessionId(id) && Buffer.from(id, 'utf8').toString('base64') === value ? id : undefined;
  }
}
