export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port (data is lost: no persistence). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its connections but answers nothing. */
  pause(): void;
  resume(): void;
}

export interface RedisServerOptions {
  port?: number;
  /**
   * Extra `redis-server` arguments, e.g. ['--rename-command', 'CONFIG', '']; or made from the
   * port, when they name it or another port (made again if a start retries on a new port).
   */
  args?: string[] | ((port: number) => string[] | Promise<string[]>);
}

export function ensureRedisInstalled(): void;
export function freePort(): Promise<number>;
export function startRedisServer(options?: RedisServerOptions): Promise<RedisServer>;
