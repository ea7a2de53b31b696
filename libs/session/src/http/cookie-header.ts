/** A Cookie header longer than this is not read at all (browsers send at most ~8 KB). */
const MAX_COOKIE_HEADER = 16 * 1024;

/**
 * Calls `visit` with each value of the cookie `name` in a Cookie header, in order, as sent (still
 * URL-encoded, surrounding quotes removed), until `visit` returns true. Scans the header in place
 * (no split): only that cookie's values are copied out, as this runs on every request.
 */
export function forEachCookieValue(header: string | undefined, name: string, visit: (value: string) => boolean | undefined): void {
  if (!header || header.length > MAX_COOKIE_HEADER) return;
  for (let start = 0; start < header.length; ) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq >= 0 && eq < end && header.slice(start, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (visit(value) === true) return;
    }
    start = end + 1;
  }
}
