import type { INestApplication } from '@nestjs/common';

/**
 * Listens on the loopback port, tells the benchmark it is up ("ready" on stdout, which
 * bench/lib/processes.js waits for), and closes the app on SIGTERM/SIGINT.
 */
export async function serveOnLoopback(app: INestApplication, port: number): Promise<void> {
  await app.listen(port, '127.0.0.1');
  process.stdout.write('ready\n');
  const stop = () => void app.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
