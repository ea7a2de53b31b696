import type { Cluster, Redis } from 'ioredis';
import { isClusterClient } from './redis-connection.js';

/** Where a client connects, for messages: host:port (or socket path), never its credentials. */
export function redisAddress(client: Redis | Cluster): string {
  if (isClusterClient(client)) {
    // ioredis keeps the seed nodes in a private field.
    const nodes = (client as unknown as { startupNodes?: unknown[] }).startupNodes ?? [];
    return `cluster ${nodes.map((node: unknown) => (typeof node === 'object' && node !== null ? `${(node as { host?: string }).host ?? '127.0.0.1'}:${(node as { port?: number }).port ?? 6379}` : String(node))).join(',')}`;
  }
  const { host, port, path } = (client as Redis).options;
  return path ? path : `${host ?? '127.0.0.1'}:${port ?? 6379}`;
}

/**
 * Resolves once Redis answers a PING; rejects after `timeoutMs` with an error that names the
 * address and the last connection error (refused, wrong password), which says more than the PING's own.
 */
export async function assertRedisReachable(client: Redis | Cluster, timeoutMs: number): Promise<void> {
  let lastError: Error | undefined;
  const record = (error: Error) => {
    lastError = error;
  };
  client.on('error', record);
  client.on('node error', record);
  let timer: NodeJS.Timeout | undefined;
  let gaveUp = false;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    // Retried until the deadline: a PING queued while connecting fails after one reconnection attempt.
    const ping = async (): Promise<void> => {
      while (!gaveUp) {
        try {
          await client.ping();
          return;
        } catch (error) {
          lastError ??= error as Error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    await Promise.race([ping(), deadline]);
  } catch (error) {
    const reason = lastError?.message ?? (error as Error).message;
    throw new Error(`EnableRedisHttpSession: Redis at ${redisAddress(client)} is unreachable at start-up (requireRedisAtStartup): ${reason}`, { cause: lastError ?? error });
  } finally {
    gaveUp = true;
    clearTimeout(timer);
    client.off('error', record);
    client.off('node error', record);
  }
}
