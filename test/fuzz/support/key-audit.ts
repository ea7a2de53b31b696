import type { Redis } from 'ioredis';

/** The shape of a session key: the namespace, then a well-formed id (32 base64url characters) as a hash tag. */
export function sessionKeyPattern(namespace: string): RegExp {
  return new RegExp(`^${escapeRegExp(namespace)}:sessions:\\{([A-Za-z0-9_-]{28})\\}$`);
}

/** Every key the server holds that does not start with `<namespace>:` (SCAN: the server is private). */
export async function keysOutsideNamespace(redis: Redis, namespace: string): Promise<string[]> {
  const outside: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    outside.push(...keys.filter((key) => !key.startsWith(`${namespace}:`)));
  } while (cursor !== '0');
  return outside;
}

/** Every key the server holds, for tests that look inside them. */
export async function allKeys(redis: Redis): Promise<string[]> {
  const all: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    all.push(...keys);
  } while (cursor !== '0');
  return all;
}

export interface SessionKeyUse {
  /** Arguments that start like a session key but are not the exact key of a well-formed id. */
  malformed: string[];
  /** The ids of the well-formed session keys seen. */
  ids: Set<string>;
}

/**
 * Every argument of every command that starts with `<namespace>:sessions:` (the prefix of session
 * keys): whether it is the exact key of a well-formed id, and which ids were used.
 */
export function sessionKeyUse(commands: string[][], namespace: string): SessionKeyUse {
  const prefix = `${namespace}:sessions:`;
  const pattern = sessionKeyPattern(namespace);
  const use: SessionKeyUse = { malformed: [], ids: new Set() };
  for (const args of commands) {
    for (const arg of args) {
      if (!arg.includes(prefix)) continue;
      const id = pattern.exec(arg)?.[1];
      if (id === undefined) use.malformed.push(arg);
      else use.ids.add(id);
    }
  }
  return use;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
