/**
 * Hostile or broken session ids as a handshake may carry them. Header values are kept to what an
 * HTTP client can send at all (Node refuses control characters): non-ASCII text travels as its
 * UTF-8 bytes, as a browser would send it.
 */
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const utf8Bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/** Cookie values for `SESSION=<value>`; none of them is a live session. */
export function malformedCookieValues(liveId: string): { label: string; value: string }[] {
  const live = b64(liveId);
  return [
    { label: 'empty', value: '' },
    { label: 'not base64', value: 'not base64!!' },
    { label: 'bad base64 padding', value: live.slice(0, -1) + '==' },
    { label: 'the raw id, not base64', value: liveId },
    { label: 'base64 of a short id', value: b64('short') },
    { label: 'base64 of a glob', value: b64('*'.repeat(32)) },
    { label: 'base64 of a key injection', value: b64(`x}:sessions:{${'a'.repeat(18)}`) },
    { label: 'base64 of a well-formed id nobody holds', value: b64('A'.repeat(28)) },
    { label: 'the live value with one char changed', value: live.slice(0, 10) + (live[10] === 'A' ? 'B' : 'A') + live.slice(11) },
    { label: 'the live value twice', value: live + live },
    { label: 'the live value with a suffix', value: `${live}x` },
    { label: '__proto__', value: '__proto__' },
    { label: 'base64 of __proto__ as an id', value: b64('__proto__'.padEnd(28, '_')) },
    { label: 'constructor', value: 'constructor' },
    { label: 'unicode (UTF-8 bytes)', value: utf8Bytes('sessión-会话-😀') },
    { label: 'base64 of unicode', value: b64('é'.repeat(16)) },
    { label: 'JSON', value: JSON.stringify({ id: liveId }) },
    { label: 'a Redis command', value: 'FLUSHALL' },
    { label: '12 KB of letters (under the header limit)', value: 'A'.repeat(12 * 1024) },
  ];
}

/** `auth` payloads whose token is not a live session id (wrong types and shapes included). */
export function malformedAuthTokens(liveId: string): { label: string; auth: unknown }[] {
  return [
    { label: 'token: a number', auth: { token: 12345 } },
    { label: 'token: NaN-ish huge number', auth: { token: 1e308 } },
    { label: 'token: true', auth: { token: true } },
    { label: 'token: null', auth: { token: null } },
    { label: 'token: an object', auth: { token: { id: liveId } } },
    { label: 'token: an array holding the id', auth: { token: [liveId] } },
    { label: 'token: an empty string', auth: { token: '' } },
    { label: 'token: base64 of the id (the cookie form)', auth: { token: b64(liveId) } },
    { label: 'token: the id with a space', auth: { token: ` ${liveId}` } },
    { label: 'token: __proto__', auth: { token: '__proto__' } },
    { label: 'token: unicode', auth: { token: 'sessión-会话-😀'.padEnd(32, 'x') } },
    { label: 'token: 100 KB', auth: { token: 'A'.repeat(100 * 1024) } },
    { label: 'the id under __proto__ (no prototype lookup)', auth: JSON.parse(`{"__proto__": {"token": "${liveId}"}}`) },
    { label: 'the id under another name', auth: { sessionId: liveId } },
    { label: 'auth: an empty object', auth: {} },
    { label: 'auth: null', auth: null },
  ];
}

/** `auth` payloads that are not objects at all; Socket.IO's own parser may close such a connection before any middleware. */
export function nonObjectAuthPayloads(liveId: string): { label: string; auth: unknown }[] {
  return [
    { label: 'auth: a number', auth: 42 },
    { label: 'auth: the id as a bare string', auth: liveId },
    { label: 'auth: an array', auth: [liveId] },
    { label: 'auth: true', auth: true },
  ];
}
