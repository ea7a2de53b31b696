// Reads V8 CPU profiles (node --cpu-prof): self time per sampled frame, summed over every profile
// in a folder. Shared by bench/lib/profile-summary.js and bench/route-profile.js.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A frame's file, shortened: the path inside node_modules, or libs/session/... for the library. */
function whereOf(url) {
  return url
    .split('node_modules/')
    .at(-1)
    .replace(/^.*\/libs\/session\//, 'libs/session/');
}

/** Whose code a frame is: the library, an npm package, a part of Node, or V8's own entries ("(garbage collector)"...). */
export function ownerOf({ functionName, url }) {
  if (url.includes('/libs/session/')) return 'nestjs-redis-session';
  if (url.includes('node_modules/')) {
    const [scope, name] = url.split('node_modules/').at(-1).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  if (url.startsWith('node:')) return `node:${url.slice('node:'.length).split('/')[0]}`;
  return url ? whereOf(url) : functionName;
}

/** How a frame is named in the tables: "function file:line". */
export function frameKey({ functionName, url, lineNumber }) {
  return `${functionName || '(anonymous)'} ${whereOf(url)}:${lineNumber + 1}`;
}

/**
 * Self time (µs) by frame, keyed "function file:line", with each frame's owner, and the total
 * sampled. `window` ({ from, to }, µs of the system's monotonic clock, which V8's sample times and
 * process.hrtime share on Linux) keeps only the samples taken in it.
 */
export function selfTimeByFrame(folder, window) {
  const frames = new Map();
  let total = 0;
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(folder, file), 'utf8'));
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas[i];
      if (window && (at < window.from || at > window.to)) return;
      const frame = nodes.get(id).callFrame;
      const key = frameKey(frame);
      const entry = frames.get(key) ?? { micros: 0, owner: ownerOf(frame) };
      entry.micros += profile.timeDeltas[i];
      frames.set(key, entry);
      total += profile.timeDeltas[i];
    });
  }
  return { frames, total };
}
