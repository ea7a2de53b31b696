#!/usr/bin/env node
// Starts N instances of the built chat app on consecutive ports, all on the same Redis, for a
// demo of shared sessions and cross-instance chat: `REDIS_URL=redis://127.0.0.1:6379 npm run chat:cluster -- 3`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

const MAIN = 'dist/apps/chat/apps/chat/src/main.js';

function fail(message) {
  console.error(`chat:cluster: ${message}`);
  process.exit(1);
}

const count = Number(process.argv[2] ?? 2);
if (!Number.isInteger(count) || count < 1 || count > 16) fail(`expected a number of instances between 1 and 16, got "${process.argv[2]}"`);
if (!process.env.REDIS_URL) {
  fail('REDIS_URL is required: instances share sessions and messages through Redis (e.g. REDIS_URL=redis://127.0.0.1:6379)');
}
if (!existsSync(MAIN)) fail(`${MAIN} is missing: run \`npm run build\` first`);
const firstPort = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(firstPort) || firstPort < 1 || firstPort + count - 1 > 65535) fail(`PORT must be a port number, got "${process.env.PORT}"`);

const children = [];
let stopping = false;

function stopAll(signal = 'SIGTERM') {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}

for (let i = 0; i < count; i++) {
  const port = firstPort + i;
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  // Each line prefixed with its instance, so interleaved logs stay readable.
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`[chat:${port}] ${line}`));
  }
  child.on('exit', (code, signal) => {
    console.log(`[chat:${port}] exited (${signal ?? `code ${code}`})`);
    // One instance dying is the demo failing: take the others down rather than leave half a cluster.
    if (!stopping) {
      process.exitCode = code || 1;
      stopAll();
    }
  });
}

console.log(`chat:cluster: ${count} instance(s) on ${Array.from({ length: count }, (_, i) => `http://127.0.0.1:${firstPort + i}`).join(', ')}`);
console.log('chat:cluster: open two of them in one browser (same host name, so the session cookie is shared); Ctrl+C stops all');

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal));
