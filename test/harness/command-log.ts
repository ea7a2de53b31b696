import { Redis } from 'ioredis';

/**
 * Every command a private Redis runs while the test watches (MONITOR), as argument lists; commands
 * run inside Lua scripts included, so a key a script builds is seen too.
 */
export class CommandLog {
  readonly commands: string[][] = [];
  /** Only the commands clients sent (not those run inside their scripts). */
  readonly clientCommands: string[][] = [];
  private client!: Redis;
  private monitor!: Redis;

  static async start(url: string): Promise<CommandLog> {
    const log = new CommandLog();
    // monitor() opens a connection of its own beside the client's: both are closed in stop().
    log.client = new Redis(url);
    log.monitor = await log.client.monitor();
    log.monitor.on('monitor', (_time: string, args: string[], source: string) => {
      log.commands.push(args);
      if (source !== 'lua') log.clientCommands.push(args);
    });
    return log;
  }

  /** Resolves once every command sent before the call has been seen (a marker goes through last). */
  async settle(): Promise<void> {
    const marker = `settle-${Math.random()}`;
    await this.client.echo(marker);
    while (!this.commands.some((args) => args.includes(marker))) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Forgets what was seen so far. */
  clear(): void {
    this.commands.length = 0;
    this.clientCommands.length = 0;
  }

  stop(): void {
    this.monitor.disconnect();
    this.client.disconnect();
  }
}
