import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';

/**
 * `app.close()` with sockets connected leaves nothing running: a jest that does it exits by itself,
 * without --forceExit. Proven on a jest of its own, since this one's exit cannot be observed from inside.
 */
describe('app.close() with sockets connected', () => {
  it('a jest run that closes its apps with sockets open exits by itself, its test passed', async () => {
    const child = spawn(
      process.execPath,
      [
        '--experimental-vm-modules',
        'node_modules/jest/bin/jest.js',
        '--ci',
        '--testMatch',
        '<rootDir>/test/websocket/shutdown-fixture/close-with-open-sockets.jest.ts',
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SESSION_TEST_REDIS_URL: '', SESSION_TEST_REDIS_CLUSTER: '' } },
    );
    let output = '';
    const exit = await new Promise<number | string | null>((resolve) => {
      const giveUp = (why: string) => {
        child.kill('SIGKILL');
        resolve(why);
      };
      const timer = setTimeout(() => giveUp('still running after 25 s'), 25_000);
      const collect = (chunk: Buffer) => {
        output += chunk;
        // Jest says so one second after its run when something keeps the process alive: no need to wait longer.
        if (/did not exit one second after/.test(output)) setTimeout(() => giveUp('hung after its run'), 500);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    expect({ exit, output }).toEqual({ exit: 0, output: expect.stringMatching(/Tests:\s+1 passed, 1 total/) });
    expect(output).not.toMatch(/did not exit|open handle|forceExit/i);
  }, 30_000);
});
