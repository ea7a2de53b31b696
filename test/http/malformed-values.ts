import { isValidSessionId } from 'nestjs-redis-session';

/** A hostile or broken session id value, as the client would send it. */
export interface MalformedValue {
  label: string;
  value: string;
  /** Set when the value is a well-formed id nobody holds: it may be looked up (as that exact key), nothing more. */
  unknownId?: string;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
/** The same string with one character changed to another of the id alphabet. */
export const flipOneChar = (text: string, at = 5) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);

/**
 * Fifty-odd values that must never cause a 5xx nor reach Redis. `liveId` is a session that exists;
 * `wire` turns an id into what the resolver expects on the wire (base64 for the cookie, as is for the
 * header), `unwire` back. A value that unwires to a well-formed id is marked `unknownId`: it may be
 * looked up as that exact key (for the header, the live id lower-cased is such a value).
 */
export function malformedValues(liveId: string, wire: (id: string) => string, unwire: (value: string) => string): MalformedValue[] {
  const live = wire(liveId);
  const flippedId = flipOneChar(liveId);
  const values: MalformedValue[] = [
    { label: 'empty', value: '' },
    { label: 'spaces', value: '   ' },
    { label: 'a star', value: '*' },
    { label: 'a glob', value: '[a-z]*?' },
    { label: 'an escaped star', value: '\\*' },
    { label: 'not base64', value: 'not base64!!' },
    { label: 'percent signs', value: '%%%%' },
    { label: 'padding only', value: '====' },
    { label: 'one letter', value: 'A' },
    { label: 'base64 of a short id', value: b64('short') },
    { label: 'base64 of an id one character short', value: b64(liveId.slice(1)) },
    { label: 'base64 of an id one character long', value: b64(liveId + 'A') },
    { label: 'base64 of 32 stars', value: b64('*'.repeat(32)) },
    { label: 'base64 of a hash-tag injection', value: b64(`{${'a'.repeat(26)}}`) },
    { label: 'base64 of a key-prefix injection', value: b64(`x:sessions:${'a'.repeat(20)}`) },
    { label: 'base64 of the id plus CRLF', value: b64(liveId + '\r\n') },
    { label: 'base64 of 16 two-byte characters (32 bytes)', value: b64('é'.repeat(16)) },
    { label: 'the live value with one char flipped', value: flipOneChar(live, 10) },
    { label: 'the live value without its last char', value: live.slice(0, -1) },
    { label: 'the live value with extra padding', value: live + '==' },
    { label: 'the live value twice', value: live + live },
    { label: 'the live value lower-cased', value: live.toLowerCase() },
    { label: 'the live value plus garbage', value: `${live} garbage` },
    { label: 'the live value, comma-listed twice', value: `${live}, ${live}` },
    { label: 'the live value in single quotes', value: `'${live}'` },
    { label: 'the live value with an open quote', value: `"${live}` },
    { label: 'a lone quote', value: '"' },
    { label: 'an empty quoted string', value: '""' },
    { label: '10 KB of letters', value: 'A'.repeat(10 * 1024) },
    { label: '10 KB of base64-looking noise', value: b64('x'.repeat(7680)) },
    { label: 'latin-1', value: 'sessión' },
    { label: 'CJK', value: '会话标识符' },
    { label: 'emoji', value: '😀'.repeat(11) },
    { label: 'a NUL byte', value: `abc\u0000def` },
    { label: 'CRLF header injection', value: 'abc\r\nX-Injected: 1' },
    { label: 'CRLF response splitting', value: `${live}\r\n\r\nHTTP/1.1 200 OK` },
    { label: 'a bare CR', value: 'abc\rdef' },
    { label: 'a bare LF', value: 'abc\ndef' },
    { label: 'URL-encoded CRLF', value: '%0d%0aSet-Cookie:%20evil=1' },
    { label: '__proto__', value: '__proto__' },
    { label: 'constructor', value: 'constructor' },
    { label: 'null', value: 'null' },
    { label: 'a path', value: '../../../etc/passwd' },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style string is the hostile value under test
    { label: 'a template', value: '${jndi:ldap://example.com/a}' },
    { label: 'markup', value: '<script>alert(1)</script>' },
    { label: 'JSON', value: `{"id":"${liveId}"}` },
    { label: 'a Redis command', value: 'FLUSHALL' },
    { label: 'a RESP frame', value: '*1\r\n$8\r\nFLUSHALL\r\n' },
    // Well-formed ids nobody holds: looked up as their exact key, and found absent.
    { label: 'another session\'s id with one char flipped', value: wire(flippedId), unknownId: flippedId },
    { label: 'a well-formed id spelling __proto__', value: wire('__proto__'.padEnd(32, '_')), unknownId: '__proto__'.padEnd(32, '_') },
  ];
  for (const entry of values) {
    const id = unwire(entry.value);
    if (isValidSessionId(id)) entry.unknownId = id;
  }
  if (values.some((entry) => entry.unknownId === liveId)) throw new Error('a "malformed" value carries the live id');
  return values;
}
