import signature from 'cookie-signature';
import { isValidSessionId, SESSION_ID_LENGTH } from '../core/session-id.js';
import { forEachCookieValue } from './cookie-header.js';
import { isSecure, requestHeader, setResponseHeader, type HttpExchange } from './http-exchange.js';
import { resolveCookieOptions, type ResolvedCookieOptions, type SessionCookieOptions } from './session-cookie-options.js';
import type { SessionIdLifetime, SessionIdResolver } from './session-id-resolver.js';

/**
 * Standard, padded base64 of an id, in the one spelling we write: a decoder ignores the spare bits
 * of the last character before '=', so other spellings would name the same id. Those bits must be
 * zero: with '==' the last character is one of A Q g w, with '=' a multiple of 4 in the alphabet.
 */
const PADDING = (3 - (SESSION_ID_LENGTH % 3)) % 3;
const LAST_CHARACTER = ['[A-Za-z0-9+/]', '[AEIMQUYcgkosw048]', '[AQgw]'][PADDING];
const BASE64_ID = new RegExp(`^[A-Za-z0-9+/]{${Math.ceil(SESSION_ID_LENGTH / 3) * 4 - PADDING - 1}}${LAST_CHARACTER}={${PADDING}}$`);
const NO_IDS: readonly string[] = Object.freeze([]);
const EXPIRED = `; Max-Age=0; Expires=${new Date(0).toUTCString()}`;

/**
 * The `SESSION` cookie, as Spring's CookieHttpSessionIdResolver + DefaultCookieSerializer:
 * base64 value, Path=/, HttpOnly, SameSite=Lax, Secure on https, no Max-Age unless asked.
 * When the request carries several cookies of that name, each is a candidate, in order.
 *
 * ```ts
 * new CookieSessionIdResolver({ name: 'SID', sameSite: 'Strict' }) // unset fields take Spring's defaults
 * ```
 */
export class CookieSessionIdResolver implements SessionIdResolver {
  private readonly cookie: ResolvedCookieOptions;
  /** The attributes after the cookie's lifetime, for a Secure cookie and for a plain one: fixed once the options are. */
  readonly #attributes: { secure: string; plain: string };

  constructor(cookie: SessionCookieOptions = {}) {
    this.cookie = resolveCookieOptions(cookie);
    this.#attributes = { secure: fixedAttributes(this.cookie, true), plain: fixedAttributes(this.cookie, false) };
  }

  resolveSessionIds(exchange: HttpExchange): readonly string[] {
    let ids: string[] | undefined;
    forEachCookieValue(requestHeader(exchange, 'cookie'), this.cookie.name, (value) => {
      const id = this.decode(value);
      if (id !== undefined && !ids?.includes(id)) (ids ??= []).push(id);
    });
    return ids ?? NO_IDS;
  }

  /** A persistent cookie (`maxAgeSeconds`) is sent again as the session is used, so that it expires with it (rolling). */
  get renewsOnTouch(): boolean {
    return this.cookie.maxAgeSeconds !== undefined;
  }

  /** A "remember me" session's `lifetime` makes the cookie persistent for that long; otherwise `cookie.maxAgeSeconds`, if set. */
  setSessionId(exchange: HttpExchange, id: string, lifetime?: SessionIdLifetime): void {
    const encoded = this.cookie.base64 ? Buffer.from(id, 'utf8').toString('base64') : id;
    const value = this.cookie.secrets ? signature.sign(encoded, this.cookie.secrets[0]) : encoded;
    const maxAge = lifetime?.maxAgeSeconds ?? this.cookie.maxAgeSeconds;
    this.write(exchange, value, maxAge === undefined ? '' : `; Max-Age=${maxAge}; Expires=${new Date(Date.now() + maxAge * 1000).toUTCString()}`);
  }

  expireSession(exchange: HttpExchange): void {
    this.write(exchange, '', EXPIRED);
  }

  /** `lifetime`: the Max-Age and Expires attributes, each after "; " ('' for a browser-session cookie). */
  private write(exchange: HttpExchange, value: string, lifetime: string): void {
    const { name, secure } = this.cookie;
    const attributes = secure === true || (secure === 'auto' && isSecure(exchange)) ? this.#attributes.secure : this.#attributes.plain;
    setResponseHeader(exchange, 'Set-Cookie', `${name}=${value}${lifetime}${attributes}`, name);
  }

  private decode(sent: string): string | undefined {
    const value = this.cookie.secrets ? this.verified(sent) : sent;
    if (value === undefined) return undefined;
    if (!this.cookie.base64) return isValidSessionId(value) ? value : undefined;
    if (!BASE64_ID.test(value)) return undefined;
    const id = atob(value); // cannot throw: the pattern admits only well-formed base64
    return isValidSessionId(id) ? id : undefined;
  }

  /** The value under a signature one of the secrets made, or undefined (unsigned, tampered, truncated). */
  private verified(sent: string): string | undefined {
    if (sent.length > 256 || !sent.includes('.')) return undefined;
    for (const secret of this.cookie.secrets!) {
      const value = signature.unsign(sent, secret);
      if (value !== false) return value;
    }
    return undefined;
  }
}

/** The attributes that follow the lifetime, each after "; ", in the order Spring's DefaultCookieSerializer writes them. */
function fixedAttributes(cookie: ResolvedCookieOptions, secure: boolean): string {
  let attributes = `; Path=${cookie.path}`;
  if (cookie.domain) attributes += `; Domain=${cookie.domain}`;
  if (secure) attributes += '; Secure';
  if (cookie.httpOnly) attributes += '; HttpOnly';
  attributes += `; SameSite=${cookie.sameSite}`;
  if (cookie.partitioned && secure) attributes += '; Partitioned';
  if (cookie.priority) attributes += `; Priority=${cookie.priority}`;
  return attributes;
}
