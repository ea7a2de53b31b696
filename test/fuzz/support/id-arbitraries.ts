import fc from 'fast-check';

/**
 * Hostile and broken session id values, as fast-check arbitraries. Strings are sequences of
 * bytes (one char per byte, 0-255): what a raw HTTP request can carry in a header.
 */

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Characters near the id and base64 alphabets, where off-by-one bugs live. */
const NEAR_ALPHABET = [...ID_ALPHABET, '+', '/', '=', '.', ' ', '\t', '"', ';', ',', '{', '}', '*', '?', '[', ']', '\\', ':', '%', '\u00a0', '\u00ff', '\u0080'];

const byteChar = (min: number, max: number) => fc.integer({ min, max }).map((code) => String.fromCharCode(code));
/** Visible ASCII, tab, and high bytes (obs-text): what an HTTP parser lets through to the app. */
const headerChar = fc.oneof({ weight: 10, arbitrary: byteChar(0x20, 0x7e) }, { weight: 1, arbitrary: fc.constant('\t') }, { weight: 2, arbitrary: byteChar(0x80, 0xff) });
/** Any byte but the pair CR LF (which would end the header line and inject another). */
const anyByte = byteChar(0, 255);

export const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
/** A string's UTF-8 bytes, one char per byte, as they travel in a header. */
export const utf8Bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/** A well-formed session id (28 characters of base64url): a stranger's, or a guess. */
export const wellFormedId = fc.string({ unit: fc.constantFrom(...ID_ALPHABET), minLength: 28, maxLength: 28 });

/** Text an HTTP parser lets through: visible ASCII, tabs, high bytes. */
export const headerText = (maxLength: number) => fc.string({ unit: headerChar, maxLength, size: 'medium' });

/** Any bytes, control characters included (a parser refuses most with 400), never CR LF. */
export const controlText = (maxLength: number) => fc.string({ unit: anyByte, maxLength, size: 'medium' }).map((text) => text.replace(/\r\n/g, '\r'));

/** One edit of a string: a char flipped, dropped, doubled or inserted, case or padding changed, quoted, padded with blanks. */
export function mutated(source: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const nearChar = fc.constantFrom(...NEAR_ALPHABET);
  return fc.tuple(source, fc.nat(), nearChar, fc.integer({ min: 0, max: 11 })).map(([text, at, char, edit]) => {
    const i = text.length === 0 ? 0 : at % text.length;
    switch (edit) {
      case 0: return text.slice(0, i) + char + text.slice(i + 1);
      case 1: return text.slice(0, i) + text.slice(i + 1);
      case 2: return text.slice(0, i) + char + text.slice(i);
      case 3: return text.slice(0, i) + text[i] + text.slice(i);
      case 4: return text.toLowerCase();
      case 5: return text.toUpperCase();
      case 6: return text.replace(/=+$/, '') + '='.repeat(at % 4);
      case 7: return `"${text}"`;
      case 8: return ` ${text}${char}`;
      case 9: return text.replace(/\+/g, '-').replace(/\//g, '_');
      case 10: return text.slice(0, i);
      default: return text + text;
    }
  });
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Another spelling of the base64 of an id: the character before the padding carries two spare bits,
 * which a lenient decoder ignores, so other values decode to the same id (4 spare bits before '==').
 */
export function respelledBase64(id: string, spareBits: number): string {
  const encoded = base64(id);
  const padding = encoded.length - encoded.replace(/=+$/, '').length;
  const spareMask = padding === 2 ? 15 : padding === 1 ? 3 : 0;
  const last = encoded.length - 1 - padding;
  const index = BASE64_ALPHABET.indexOf(encoded[last]);
  return encoded.slice(0, last) + BASE64_ALPHABET[(index & ~spareMask) | (spareBits & spareMask)] + encoded.slice(last + 1);
}

/** Values that look like a session id and are not one: edits of a real one and of base64-encoded near-ids, other spellings. */
export function nearValidCookieValues(liveId: string): fc.Arbitrary<string> {
  const nearId = fc.oneof(mutated(fc.constant(liveId)), mutated(wellFormedId), fc.string({ unit: fc.constantFrom(...NEAR_ALPHABET), minLength: 30, maxLength: 34 }));
  const respelled = fc.tuple(fc.oneof(fc.constant(liveId), wellFormedId), fc.integer({ min: 0, max: 15 })).map(([id, bits]) => respelledBase64(id, bits));
  return fc.oneof(mutated(fc.constant(base64(liveId))), mutated(wellFormedId.map(base64)), nearId.map(base64), nearId, respelled);
}

/** An id with blanks around it (spaces, tabs, a no-break space): lenient trimming would accept it. */
export function paddedId(id: string): fc.Arbitrary<string> {
  const blank = fc.constantFrom('', ' ', '\t', '  ', '\u00a0');
  return fc.tuple(blank, blank).filter(([before, after]) => before + after !== '').map(([before, after]) => before + id + after);
}

/** The same for a header or token that carries the id as it is. */
export function nearValidTokens(liveId: string): fc.Arbitrary<string> {
  return fc.oneof(mutated(fc.constant(liveId)), mutated(wellFormedId), fc.string({ unit: fc.constantFrom(...NEAR_ALPHABET), minLength: 30, maxLength: 34 }), paddedId(liveId));
}

/** Very long values, around the library's 16 KB cookie limit and beyond Node's header limit. */
export const hugeText = fc
  .tuple(fc.integer({ min: 4 * 1024, max: 40 * 1024 }), fc.constantFrom('A', 'SESSION=', 'x; ', '=', ';'))
  .map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));

/** A whole Cookie header of many pairs: SESSION (or near names) with any of the given values, other cookies between. */
export function cookieHeader(value: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const name = fc.oneof({ weight: 6, arbitrary: fc.constant('SESSION') }, { weight: 2, arbitrary: fc.constantFrom('session', 'SESSION ', ' SESSION', 'SESSIONS', '__proto__', 'constructor', '') }, { weight: 1, arbitrary: headerText(8) });
  const pair = fc.tuple(name, value, fc.constantFrom('=', '= ', ' =', '==')).map(([n, v, eq]) => `${n}${eq}${v}`);
  return fc.array(pair, { minLength: 1, maxLength: 40 }).chain((pairs) => fc.constantFrom('; ', ';', ',', ' ; ').map((separator) => pairs.join(separator)));
}
