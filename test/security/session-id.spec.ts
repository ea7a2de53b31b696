import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSessionId, isValidSessionId } from 'nestjs-redis-session';

/**
 * Session ids: at least 128 bits from node:crypto, URL-safe, 28 characters of base64url.
 * Statistical checks use bounds far in the tails (a false alarm is rarer than one in 10^9 runs);
 * what they catch is structural: a fixed or biased position, a smaller alphabet, repeats.
 */

const LIBRARY = fileURLToPath(new URL('../../libs/session/src/', import.meta.url));
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const COUNT = 100_000;
const LENGTH = 28;

/** Every .ts file of the library, by path. */
function librarySources(dir = LIBRARY): Map<string, string> {
  const sources = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) for (const [file, text] of librarySources(path)) sources.set(file, text);
    else if (name.endsWith('.ts')) sources.set(path, readFileSync(path, 'utf8'));
  }
  return sources;
}

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: number[], total: number): number {
  const expected = total / counts.length;
  return counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
}

/**
 * Wilson-Hilferty: the chi-square value (63 degrees of freedom) whose upper tail is below 1e-11.
 * z = 6.7 standard deviations of the cube-root normal approximation.
 */
function chiSquareBound(degrees: number, z = 6.7): number {
  const v = 2 / (9 * degrees);
  return degrees * (1 - v + z * Math.sqrt(v)) ** 3;
}

describe('session ids', () => {
  const ids = Array.from({ length: COUNT }, () => generateSessionId());

  it('100,000 ids are all distinct, 28 characters of the base64url alphabet, and pass isValidSessionId', () => {
    expect(new Set(ids).size).toBe(COUNT);
    const malformed = ids.filter((id) => !/^[A-Za-z0-9_-]{28}$/.test(id) || !isValidSessionId(id));
    expect(malformed).toEqual([]);
    // URL-safe: nothing to escape in a URL, a cookie or a header.
    expect(ids.slice(0, 1000).every((id) => encodeURIComponent(id) === id)).toBe(true);
  });

  it('every one of the 64 characters is about equally frequent overall and at each of the 28 positions (chi-square)', () => {
    const overall = new Array<number>(64).fill(0);
    const byPosition = Array.from({ length: LENGTH }, () => new Array<number>(64).fill(0));
    for (const id of ids) {
      for (let i = 0; i < LENGTH; i++) {
        const index = ALPHABET.indexOf(id[i]);
        overall[index]++;
        byPosition[i][index]++;
      }
    }
    const bound = chiSquareBound(63); // ~170; the statistic's mean is 63, its standard deviation ~11
    expect(chiSquare(overall, COUNT * LENGTH)).toBeLessThan(bound);
    const skewed = byPosition.map((counts, position) => ({ position, chiSquare: chiSquare(counts, COUNT) })).filter(({ chiSquare }) => chiSquare >= bound);
    expect(skewed).toEqual([]);
  });

  it('each position carries ~6 bits, so an id carries well over 128 bits (empirical Shannon entropy)', () => {
    let bits = 0;
    for (let i = 0; i < LENGTH; i++) {
      const counts = new Map<string, number>();
      for (const id of ids) counts.set(id[i], (counts.get(id[i]) ?? 0) + 1);
      for (const count of counts.values()) bits -= (count / COUNT) * Math.log2(count / COUNT);
    }
    // 6 bits a character, less a sampling bias of ~0.0005 bits: 168 in all.
    expect(bits).toBeGreaterThan(LENGTH * 5.99);
    expect(bits).toBeGreaterThanOrEqual(128);
  });

  it('ids come from node:crypto (at least 16 bytes each, never reused); the library has no Math.random anywhere', () => {
    const sources = librarySources();
    const idSource = sources.get(join(LIBRARY, 'core', 'session-id.ts'))!;
    expect(idSource).toMatch(/^import \{ randomFillSync \} from 'node:crypto';$/m);
    const bytes = Number(/const ID_BYTES = (\d+);/.exec(idSource)?.[1]);
    expect(bytes).toBeGreaterThanOrEqual(16);
    // A pool filled by the CSPRNG, an id's bytes taken from it once each, refilled when used up.
    expect(idSource).toMatch(/if \(poolOffset === pool\.length\) \{\s+randomFillSync\(pool\);\s+poolOffset = 0;\s+\}/);
    expect(idSource).toMatch(/const id = pool\.toString\('base64url', poolOffset, poolOffset \+ ID_BYTES\);\s+poolOffset \+= ID_BYTES;/);
    const usingMathRandom = [...sources].filter(([, text]) => /Math\.random/.test(text)).map(([file]) => file);
    expect(usingMathRandom).toEqual([]);
  });
});
