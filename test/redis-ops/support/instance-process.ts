import { type ChildProcess, spawn } from 'node:child_process';

/** An app instance running in a child process (instance-main.js). */
export interface InstanceProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** What it printed, for failure messages. */
  output(): string;
  /** Resolves with the signal or exit code once the process has exited. */
  readonly exited: Promise<NodeJS.Signals | number | null>;
  /** SIGTERM (a graceful stop), SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

export function startInstanceProcess(main: string, env: Record<string, string>): Promise<InstanceProcess> {
  const child = spawn(process.execPath, [main], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let listening = false;
    const fail = (why: string) => {
      if (listening) return;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`instance ${why}:\n${output.slice(-4000)}`));
    };
    const timer = setTimeout(() => fail('did not print LISTENING within 30 s'), 30_000);
    child.once('error', (error) => fail(`could not start: ${error.message}`));
    void exited.then((how) => fail(`exited (${how}) before listening`));
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      const match = /LISTENING (\d+)/.exec(output);
      if (!match || listening) return;
      listening = true;
      clearTimeout(timer);
      child.removeAllListeners('error');
      resolve({ child, pid: child.pid!, port: Number(match[1]), output: () => output, exited, stop });
    });
  });
}
