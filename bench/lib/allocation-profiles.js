// Reads a sampling heap profile (bench/lib/allocation-sampler.js): bytes allocated by frame, with
// each frame's owner as bench/lib/cpu-profiles.js names it.
import { readFileSync } from 'node:fs';
import { frameKey, ownerOf } from './cpu-profiles.js';

/** Bytes allocated by frame ("function file:line" -> { bytes, owner }), and in all. */
export function allocationsByFrame(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const frames = new Map();
  let total = 0;
  const pending = [profile.head];
  while (pending.length > 0) {
    const node = pending.pop();
    pending.push(...node.children);
    if (node.selfSize === 0) continue;
    const key = frameKey(node.callFrame);
    // Frames without a file are V8's built-ins (Map, Array.prototype.flat...), called from the frame above.
    const frame = frames.get(key) ?? { bytes: 0, owner: node.callFrame.url ? ownerOf(node.callFrame) : '(V8 built-ins)' };
    frame.bytes += node.selfSize;
    frames.set(key, frame);
    total += node.selfSize;
  }
  return { frames, total };
}
