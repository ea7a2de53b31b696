// Child processes for benchmarks: servers run in their own process so that each variant gets
// the same CPU, and are always stopped, also when the benchmark fails.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const children = new Set();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Starts `node <script> ...args` and resolves once it prints "ready" (bounded by timeoutMs);
 * `command` runs node under another program, e.g. valgrind (the pid is then that program's).
 */
export async function startNodeServer(script, args, { env = {}, timeoutMs = 30_000, command = [] } = {}) {
  const [program, ...programArgs] = [...command, process.execPath, script, ...args];
  const child = spawn(program, programArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} ${args.join(' ')} did not start: ${output}`)), timeoutMs);
    const onData = (chunk) => {
      output += chunk.toString();
      if (output.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${output}`));
    });
  });
  return {
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Parses `--name value` flags with defaults. */
export function flags(defaults) {
  const result = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) continue;
    const name = argv[i].slice(2);
    const value = argv[i + 1];
    result[name] = typeof defaults[name] === 'number' ? Number(value) : value;
    i++;
  }
  return result;
}

/** Prints rows (arrays) as an aligned text table. */
export function printTable(header, rows) {
  const all = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(line(all[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of all.slice(1)) console.log(line(row));
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (Linux: USER_HZ, 100 everywhere in practice). */
const CLOCK_TICKS = 100;

/** The CPU time (user + system) a process has used so far, in microseconds. */
export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
}

/** Logs in once on a bench server and returns the session cookie pair ("SESSION=...", "connect.sid=...", "sessionId=..."). */
export async function sessionCookie(base) {
  const response = await fetch(`${base}/login`, { method: 'POST' });
  const cookie = response.headers.getSetCookie()[0];
  if (!cookie) throw new Error(`no session cookie from ${base}/login`);
  return cookie.split(';')[0];
}
