import { SessionOptionsError } from '../core/errors.js';
import { rejectUnknownOptions } from '../core/unknown-options.js';

export type SameSite = 'Strict' | 'Lax' | 'None';

export interface SessionCookieOptions {
  /** Default `SESSION`, as Spring. */
  name?: string;
  /** Default `/`. */
  path?: string;
  domain?: string;
  /** Default `Lax`. */
  sameSite?: SameSite;
  /** Default true. */
  httpOnly?: boolean;
  /** `'auto'` (default): Secure when the request is https (the platform's trust-proxy setting is honoured). */
  secure?: boolean | 'auto';
  /** A persistent cookie ("remember me"); default none: a browser-session cookie, as Spring. */
  maxAgeSeconds?: number;
  /** Write the id base64-encoded, as Spring's DefaultCookieSerializer (default true). */
  base64?: boolean;
  /**
   * Sign the cookie (HMAC-SHA256, as express-session and cookie-signature do): the first secret
   * signs, every one verifies, so a new secret can be put first without signing anyone out.
   * Default none: unsigned, as Spring (the id's 168 random bits need no signature). With secrets,
   * an unsigned or badly signed cookie is ignored.
   */
  secrets?: string[];
  /** The `Partitioned` attribute (CHIPS: a cookie kept per top-level site); needs a Secure cookie. */
  partitioned?: boolean;
  /** The `Priority` attribute (Chromium evicts Low first when a site has too many cookies). */
  priority?: 'Low' | 'Medium' | 'High';
}

/** Cookie options with every default filled in and checked. */
export type ResolvedCookieOptions = Required<Omit<SessionCookieOptions, 'domain' | 'maxAgeSeconds' | 'secrets' | 'priority'>> &
  Pick<SessionCookieOptions, 'domain' | 'maxAgeSeconds' | 'priority'> & { secrets: string[] | undefined };

const COOKIE_OPTION_NAMES: Record<keyof SessionCookieOptions, true> = {
  name: true, path: true, domain: true, sameSite: true, httpOnly: true, secure: true, maxAgeSeconds: true, base64: true,
  secrets: true, partitioned: true, priority: true,
};

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True for a valid cookie name (an HTTP token: no spaces, `;`, `=`). */
export function isCookieName(name: unknown): name is string {
  return typeof name === 'string' && TOKEN.test(name);
}

/** Fills in Spring's defaults and fails fast, naming the option (`cookie.<name>`), on anything invalid. */
export function resolveCookieOptions(cookie: SessionCookieOptions = {}): ResolvedCookieOptions {
  const fail = (option: string, reason: string): never => {
    throw new SessionOptionsError(`cookie.${option}`, reason);
  };
  const oneOf = <V>(option: string, value: V, allowed: readonly V[]): V => {
    if (!allowed.includes(value)) fail(option, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    return value;
  };
  if (typeof cookie !== 'object' || cookie === null) throw new SessionOptionsError('cookie', `expected an object of cookie options, got ${JSON.stringify(cookie)}`);
  rejectUnknownOptions(cookie, COOKIE_OPTION_NAMES, 'cookie.');
  const name = cookie.name ?? 'SESSION';
  if (!isCookieName(name)) fail('name', `"${name}" is not a valid cookie name`);
  const path = cookie.path ?? '/';
  if (typeof path !== 'string' || !path.startsWith('/') || /[;\s]/.test(path)) fail('path', 'expected a path starting with / without ; or spaces');
  if (cookie.domain !== undefined && !/^[A-Za-z0-9.-]+$/.test(cookie.domain)) fail('domain', `"${cookie.domain}" is not a domain`);
  const { maxAgeSeconds } = cookie;
  if (maxAgeSeconds !== undefined && (typeof maxAgeSeconds !== 'number' || !Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0)) {
    fail('maxAgeSeconds', `expected an integer >= 0, got ${JSON.stringify(maxAgeSeconds)}`);
  }
  const sameSite = oneOf('sameSite', cookie.sameSite ?? 'Lax', ['Strict', 'Lax', 'None'] as const);
  const secure = oneOf('secure', cookie.secure ?? 'auto', [true, false, 'auto'] as const);
  if (sameSite === 'None' && secure === false) fail('sameSite', 'SameSite=None requires a Secure cookie (secure: true or "auto")');
  const partitioned = oneOf('partitioned', cookie.partitioned ?? false, [true, false]);
  if (partitioned && secure === false) fail('partitioned', 'a Partitioned cookie must be Secure (secure: true or "auto")');
  const priority = cookie.priority === undefined ? undefined : oneOf('priority', cookie.priority, ['Low', 'Medium', 'High'] as const);
  const { secrets } = cookie;
  if (secrets !== undefined && (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((secret) => typeof secret === 'string' && secret.length > 0))) {
    fail('secrets', 'expected a non-empty array of non-empty strings (the first signs, all verify)');
  }
  // The prefixes browsers enforce (RFC 6265bis): a cookie that breaks their rule is dropped by the browser, silently.
  if (name.startsWith('__Secure-') || name.startsWith('__Host-')) {
    if (secure === false) fail('name', `a ${name.startsWith('__Host-') ? '__Host-' : '__Secure-'} cookie must be Secure (secure: true or "auto")`);
  }
  if (name.startsWith('__Host-') && (path !== '/' || cookie.domain !== undefined)) fail('name', 'a __Host- cookie must have Path=/ and no Domain');
  return {
    name,
    path,
    domain: cookie.domain,
    sameSite,
    httpOnly: oneOf('httpOnly', cookie.httpOnly ?? true, [true, false]),
    secure,
    maxAgeSeconds,
    base64: oneOf('base64', cookie.base64 ?? true, [true, false]),
    secrets: secrets && [...secrets],
    partitioned,
    priority,
  };
}
