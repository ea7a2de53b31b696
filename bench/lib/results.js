// Where every bench leaves its figures: bench/results/<name>.json (gitignored), the summary it
// printed, as JSON, for the docs and for comparing runs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../results');

/** Writes `summary` to bench/results/<name>.json and says so; returns the path. */
export function writeResults(name, summary) {
  const out = join(RESULTS_DIR, `${name}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(summary, null, 2));
  console.log(`\nWrote ${out}`);
  return out;
}
