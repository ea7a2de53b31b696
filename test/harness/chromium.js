// Debian's Chromium for the browser tests: installed when missing and we may (root + apt),
// else a message that says exactly what to install. Plain JavaScript, typed by chromium.d.ts.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags that keep headless Chromium off the network this machine does not have. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function ensureChromiumInstalled() {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log("chromium is missing: installing Debian's chromium package...");
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return CHROMIUM_PATH;
  }
  throw new Error('The browser tests need Debian\'s Chromium at /usr/bin/chromium: install it with `sudo apt-get install chromium`.');
}
