/**
 * Cross-site WebSocket hijacking protection: a browser sends the page's Origin with the handshake
 * (and, unlike for fetch, no CORS check stops a cross-site page from opening a socket with the
 * user's cookie). No Origin means not a browser, which cannot ride a user's cookie: allowed.
 */
export function isOriginAllowed(origin: string | undefined, host: string | undefined, allowed: string[] | '*' | undefined): boolean {
  if (origin === undefined || allowed === '*') return true;
  if (allowed !== undefined) return allowed.some((entry) => normalize(entry) === normalize(origin));
  // Default: same origin as the Host the request was sent to.
  try {
    return host !== undefined && new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

function normalize(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}
