import type { Redis } from 'ioredis';

/**
 * What to tell the operator when a Redis node may evict session keys: with an `allkeys-*`
 * `maxmemory-policy`, Redis under memory pressure deletes any key, session hashes included, and
 * users are signed out at random. Sessions all carry a TTL, so `volatile-*` policies evict them
 * too, but only as `noeviction` would not: then writes fail (a 503) and reads keep working.
 * Undefined when the policy is safe, or when `CONFIG` is not allowed (nothing can be known).
 */
export async function evictionWarning(node: Redis): Promise<string | undefined> {
  let policy: string | undefined;
  try {
    [, policy] = (await node.config('GET', 'maxmemory-policy')) as string[];
  } catch {
    return undefined;
  }
  if (policy === undefined || !policy.startsWith('allkeys-')) return undefined;
  return (
    `Redis at ${node.options.host ?? '?'}:${node.options.port ?? '?'} has maxmemory-policy ${policy}: under memory pressure it may ` +
    'evict session keys, signing users out at random. Prefer noeviction (writes then fail with 503 and reads keep working), ' +
    'or keep sessions on a Redis of their own.'
  );
}
