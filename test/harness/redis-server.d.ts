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
  /** Extra `redis-server` arguments, e.g. ['--rename-command', 'CONFIG', '']. */
  args?: string[];
}

export function ensureRedisInstalled(): void;
export function freePort(): Promise<number>;
/** Whether a start failed because its port (or a cluster node's bus port) was in use. */
export function isPortTaken(error: unknown): boolean;
export function startRedisServer(options?: RedisServerOptions): Promise<RedisServer>;
