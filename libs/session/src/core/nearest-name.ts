/** Levenshtein distance, case-insensitive (a misspelt option differs by a letter or a case). */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * The valid name `given` most likely meant: a close spelling, or one that starts with it
 * (`maxAge` for `maxAgeSeconds`), or undefined when nothing is close enough to suggest.
 */
export function nearestName(given: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const name of names) {
    const lower = name.toLowerCase();
    const isPrefix = lower.startsWith(given.toLowerCase()) || given.toLowerCase().startsWith(lower);
    const score = distance(given, name);
    const close = score <= Math.max(2, Math.floor(name.length / 3)) || (isPrefix && given.length >= 3);
    if (close && score < bestScore) {
      best = name;
      bestScore = score;
    }
  }
  return best;
}
