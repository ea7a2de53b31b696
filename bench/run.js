// npm run bench -- <part> [flags]: builds what the benchmarks run, then runs one part, or all.
// Parts: http, redis-cost, memory, ws, expiry, socket-close, soak, instructions, ws-instructions, sockets, route-profile (the last five are not part of "all": they run for minutes, or are a diagnosis). Each starts and stops its own Redis and servers on loopback.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PARTS = {
  http: 'http-throughput.js',
  'redis-cost': 'redis-cost.js',
  memory: 'memory.js',
  ws: 'ws-throughput.js',
  expiry: 'expiry-latency.js',
  'socket-close': 'socket-close-latency.js',
  soak: 'soak.js',
  instructions: 'http-instructions.js',
  'ws-instructions': 'ws-instructions.js',
  sockets: 'sockets-scale.js',
  'route-profile': 'route-profile.js',
};

const [part = 'all', ...rest] = process.argv.slice(2);
const selected =
  part === 'all' ? Object.keys(PARTS).filter((name) => !['soak', 'instructions', 'ws-instructions', 'sockets', 'route-profile'].includes(name)) : [part];
for (const name of selected) {
  if (!PARTS[name]) {
    console.error(`Unknown part "${name}". Parts: ${Object.keys(PARTS).join(', ')}, all`);
    process.exit(2);
  }
}
execFileSync('npm', ['run', '--silent', 'build:bench'], { stdio: 'inherit', cwd: join(here, '..') });
let failed = false;
for (const name of selected) {
  console.log(`\n=== ${name} ===`);
  const run = spawnSync(process.execPath, [join(here, PARTS[name]), ...rest], { stdio: 'inherit' });
  failed ||= run.status !== 0;
}
process.exit(failed ? 1 : 0);
