import type { Redis } from 'ioredis';

/** What the server did for one action: socket reads (= client round trips) and top-level commands by name. */
export interface ServerWork {
  reads: number;
  commands: number;
  calls: Record<string, number>;
}

async function snapshot(inspector: Redis): Promise<ServerWork> {
  const info = (await inspector.call('INFO', 'stats', 'commandstats')) as string;
  const number = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  const calls: Record<string, number> = {};
  for (const [, name, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[name] = Number(count);
  return { reads: number('total_reads_processed'), commands: number('total_commands_processed'), calls };
}

/**
 * Counts what `action` costs on a private server, from `CONFIG RESETSTAT` to `INFO`. The
 * inspector's own commands are measured once on an empty action and subtracted, so that only
 * the action's work remains. Nothing else may use the server meanwhile.
 */
export async function serverWork(inspector: Redis, action: () => Promise<unknown>): Promise<ServerWork> {
  const measure = async (run: () => Promise<unknown>) => {
    await inspector.config('RESETSTAT');
    await run();
    return snapshot(inspector);
  };
  const idle = await measure(async () => undefined);
  const busy = await measure(action);
  const calls: Record<string, number> = {};
  for (const [name, count] of Object.entries(busy.calls)) {
    const own = count - (idle.calls[name] ?? 0);
    if (own > 0) calls[name] = own;
  }
  return { reads: busy.reads - idle.reads, commands: busy.commands - idle.commands, calls };
}
