// The routes of the HTTP bench server (bench/servers/http-server.ts), for the benches that load it.

/** The route that never touches a session. */
export const BARE_ROUTE = { name: 'bare', method: 'GET', path: '/bare' };

/** The session routes; login is sent without the session cookie (`fresh`), so each request makes a new session. */
export const SESSION_ROUTES = [
  { name: 'read', method: 'GET', path: '/read' },
  { name: 'write', method: 'POST', path: '/write' },
  { name: 'login', method: 'POST', path: '/login', fresh: true },
];

/** Whether a variant's session routes need a session cookie: all but the bare servers and the floor, which keep no session. */
export function usesSessionCookie(variant) {
  return !variant.startsWith('bare') && !variant.startsWith('floor');
}
