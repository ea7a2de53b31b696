import type { Redis } from 'ioredis';

export interface RedisStats {
  /** Every command run, those inside Lua scripts included. */
  commands: number;
  /** Socket reads: one per batch of commands a client sends, i.e. per round trip. */
  reads: number;
  /** Calls per command name (`INFO commandstats`), e.g. { eval: 3 }. */
  calls: Map<string, number>;
}

export async function redisStats(observer: Redis): Promise<RedisStats> {
  const text = (await observer.info('stats')) + (await observer.info('commandstats'));
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(text)![1]);
  const calls = new Map<string, number>();
  for (const [, name, count] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(name, Number(count));
  return { commands: field('total_commands_processed'), reads: field('total_reads_processed'), calls };
}

/**
 * What Redis did while `action` ran, minus what the observer's own INFO calls cost (measured
 * around a no-op). Nothing else may talk to the server meanwhile.
 */
export async function redisCost(observer: Redis, action: () => Promise<unknown>): Promise<{ commands: number; reads: number; calls: Record<string, number> }> {
  const [idleBefore, idleAfter] = [await redisStats(observer), await redisStats(observer)];
  const before = await redisStats(observer);
  await action();
  const after = await redisStats(observer);
  const calls: Record<string, number> = {};
  for (const [name, count] of after.calls) {
    const delta = count - (before.calls.get(name) ?? 0) - ((idleAfter.calls.get(name) ?? 0) - (idleBefore.calls.get(name) ?? 0));
    if (delta !== 0) calls[name] = delta;
  }
  return {
    commands: after.commands - before.commands - (idleAfter.commands - idleBefore.commands),
    reads: after.reads - before.reads - (idleAfter.reads - idleBefore.reads),
    calls,
  };
}
