// Self time by function in V8 CPU profiles (node --cpu-prof), summed over every profile in a folder:
// what the benches' --profile 1 runs write under bench/results/profiles/<name>/.
// Usage: node bench/lib/profile-summary.js <folder> [--top 30]
// Prints the top functions by self time, with their share of all samples, then the library's own
// frames (libs/session) alone.
import { selfTimeByFrame } from './cpu-profiles.js';

const [folder, flag, count] = process.argv.slice(2);
if (!folder) throw new Error('usage: node bench/lib/profile-summary.js <folder> [--top 30]');
const top = flag === '--top' ? Number(count) : 30;

const { frames, total } = selfTimeByFrame(folder);
const show = (entries) => {
  for (const [key, { micros }] of entries) console.log(`${(micros / 1000).toFixed(1).padStart(9)} ms ${((100 * micros) / total).toFixed(1).padStart(5)}%  ${key}`);
};
const sorted = [...frames].sort((a, b) => b[1].micros - a[1].micros);
console.log(`${(total / 1000).toFixed(0)} ms sampled in ${folder}`);
show(sorted.slice(0, top));
const library = sorted.filter(([key]) => key.includes('libs/session/'));
const librarySum = library.reduce((sum, [, { micros }]) => sum + micros, 0);
console.log(`\nlibs/session frames: ${(librarySum / 1000).toFixed(1)} ms, ${((100 * librarySum) / total).toFixed(1)}%`);
show(library.slice(0, top));
