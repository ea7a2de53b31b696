import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isValidSessionId } from 'nestjs-redis-session';
import { sharedRedisUrl, uniqueNamespace } from '../harness/redis.js';
import { startSecurityApp, type SecurityApp } from './support/security-app.js';

/**
 * The SESSION cookie's flags, as a browser receives them: HttpOnly (no script reads it), SameSite=Lax
 * (not sent on cross-site subrequests and POSTs), Path=/, no lifetime (gone with the browser
 * session), and Secure whenever the client reached the app over https: directly (real TLS here), or
 * through a proxy the platform trusts. Checked when the cookie is set, changed at login, and cleared.
 */

/** A self-signed certificate for 127.0.0.1, made for this run. */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'session-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Answer {
  status: number;
  setCookies: string[];
  body: any;
}

/** One request over http or https (the test's certificate trusted), with the given cookie and headers. */
function send(url: string, method: 'GET' | 'POST', path: string, options: { cookie?: string; headers?: Record<string, string>; body?: unknown; ca?: string } = {}): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers = {
    ...options.headers,
    ...(options.cookie ? { cookie: options.cookie } : {}),
    ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
  };
  if (url.startsWith('http:')) {
    return fetch(url + path, { method, headers, body: payload }).then(async (response) => ({
      status: response.status,
      setCookies: response.headers.getSetCookie(),
      body: await response.json().catch(() => undefined),
    }));
  }
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method, headers, ca: options.ca }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => {
        const setCookie = response.headers['set-cookie'] ?? [];
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = text;
        }
        resolve({ status: response.statusCode!, setCookies: setCookie, body });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The cookie a client would send back, from a Set-Cookie. */
const cookieOf = (setCookie: string) => setCookie.split(';')[0];
const base64 = (id: string) => Buffer.from(id, 'utf8').toString('base64');

describe.each(['express', 'fastify'] as const)('SESSION cookie flags on %s', (platform) => {
  const tls = selfSignedCertificate();
  let plain: SecurityApp;
  let https: SecurityApp;
  let proxied: SecurityApp;

  beforeAll(async () => {
    const options = { redis: sharedRedisUrl(), redisNamespace: uniqueNamespace('cookie-flags') };
    [plain, https, proxied] = await Promise.all([
      startSecurityApp(options, { platform }),
      startSecurityApp(options, { platform, https: tls }),
      startSecurityApp(options, { platform, trustProxy: true }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([plain.app.close(), https.app.close(), proxied.app.close()]);
  });

  /** A new session, a login (new id), a logout: the three Set-Cookie headers the browser receives. */
  async function lifecycle(app: SecurityApp, headers: Record<string, string> = {}): Promise<{ created: string; loggedIn: string; cleared: string; ids: string[] }> {
    const ca = tls.cert;
    const first = await send(app.url, 'POST', '/set', { body: { name: 'cart', value: 1 }, headers, ca });
    expect(first.setCookies).toHaveLength(1);
    const login = await send(app.url, 'POST', '/login', { body: { userId: 'flags' }, cookie: cookieOf(first.setCookies[0]), headers, ca });
    expect(login.setCookies).toHaveLength(1);
    const logout = await send(app.url, 'POST', '/logout', { cookie: cookieOf(login.setCookies[0]), headers, ca });
    expect(logout.setCookies).toHaveLength(1);
    return { created: first.setCookies[0], loggedIn: login.setCookies[0], cleared: logout.setCookies[0], ids: [first.body.id, login.body.id] };
  }

  const CLEARED = 'SESSION=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/';

  it('over http: HttpOnly, SameSite=Lax, Path=/, no Secure, no lifetime; the value is the base64 of a well-formed id', async () => {
    const { created, loggedIn, cleared, ids } = await lifecycle(plain);
    expect(ids.every(isValidSessionId)).toBe(true);
    expect(created).toBe(`SESSION=${base64(ids[0])}; Path=/; HttpOnly; SameSite=Lax`);
    expect(loggedIn).toBe(`SESSION=${base64(ids[1])}; Path=/; HttpOnly; SameSite=Lax`);
    expect(cleared).toBe(`${CLEARED}; HttpOnly; SameSite=Lax`);
  });

  it('over https (real TLS): the same, plus Secure, on setting, changing and clearing', async () => {
    expect(https.url).toMatch(/^https:/);
    const { created, loggedIn, cleared, ids } = await lifecycle(https);
    expect(created).toBe(`SESSION=${base64(ids[0])}; Path=/; Secure; HttpOnly; SameSite=Lax`);
    expect(loggedIn).toBe(`SESSION=${base64(ids[1])}; Path=/; Secure; HttpOnly; SameSite=Lax`);
    expect(cleared).toBe(`${CLEARED}; Secure; HttpOnly; SameSite=Lax`);
  });

  it('behind a trusted proxy: Secure exactly when it says the client used https (X-Forwarded-Proto)', async () => {
    const secure = await lifecycle(proxied, { 'x-forwarded-proto': 'https' });
    for (const cookie of [secure.created, secure.loggedIn, secure.cleared]) expect(cookie).toMatch(/; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    const insecure = await lifecycle(proxied, { 'x-forwarded-proto': 'http' });
    for (const cookie of [insecure.created, insecure.loggedIn, insecure.cleared]) expect(cookie).toMatch(/; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('without trust in the proxy, a client cannot make the app believe it is on https (X-Forwarded-Proto ignored)', async () => {
    const { created } = await lifecycle(plain, { 'x-forwarded-proto': 'https' });
    expect(created).not.toMatch(/Secure/);
  });
});
