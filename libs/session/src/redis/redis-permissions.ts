import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { LOGGER_CONTEXT } from '../session.constants.js';
import { withDeadline } from './command-deadline.js';
import { isClusterClient } from './redis-connection.js';
import { redisAddress } from './redis-reachability.js';
import type { RedisSessionRepository } from './redis-session-repository.js';

/** What else, beside the sessions themselves, decides which permissions the library needs. */
export interface PermissionNeeds {
  /** connect-redis' key prefix when `migrateFromExpressSession` is on: its keys are read and deleted too. */
  migrationPrefix?: string;
}

/** One command the library (or ioredis for it) sends, with a key or channel of the kind it sends it on. */
interface Check {
  command: string;
  args: string[];
  on?: { kind: 'key' | 'channel'; name: string };
}

/**
 * KEYS none (a Cluster may send it to any master); ARGV the checks, each as its length and then
 * the command with its arguments. Returns the 1-based positions of the checks the user may not
 * run (a command the server does not know counts as refused), or -1 when the server has no
 * `redis.acl_check_cmd` (before Redis 7.0): nothing can be told there. no-writes: it runs on a
 * server at its maxmemory too.
 */
const CHECK_PERMISSIONS = `#!lua flags=no-writes
if not redis.acl_check_cmd then return -1 end
local refused, i, position = {}, 1, 0
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  position = position + 1
  local ok, allowed = pcall(redis.acl_check_cmd, unpack(ARGV, i + 1, i + n))
  if not ok or not allowed then refused[#refused + 1] = position end
  i = i + n + 1
end
return refused
`;

/**
 * Every command the library sends, with a key or channel of each kind it sends it on: the
 * scripts' own commands as well (Redis checks those against the user too), ioredis' (INFO for its
 * ready check; CLUSTER SLOTS and INFO, ASKING on a Cluster). Not CONFIG: without it the library
 * warns once and keeps working. Not AUTH, HELLO, QUIT: every user may run them.
 */
function checksFor(repository: RedisSessionRepository, needs: PermissionNeeds): Check[] {
  const { keys } = repository;
  const cluster = isClusterClient(repository.client);
  const db = cluster ? 0 : ((repository.client as Redis).options.db ?? 0);
  const session = keys.session('x');
  const shard = keys.expirations(0);
  const principals = keys.expiringPrincipals(0);
  const index = keys.principalIndex('x');
  const key = (name: string, command: string, ...args: string[]): Check => ({ command, args: [name, ...args], on: { kind: 'key', name } });
  const channel = (name: string, command: string, ...args: string[]): Check => ({ command, args: [name, ...args], on: { kind: 'channel', name } });
  const { del, expired } = keys.keyEventChannels(db);
  const checks: Check[] = [
    { command: 'ping', args: [] },
    { command: 'info', args: [] },
    { command: 'eval', args: ['return 1', '1', session], on: { kind: 'key', name: session } },
    ...['hgetall', 'exists', 'del', 'persist', 'pttl'].map((command) => key(session, command)),
    key(session, 'hmget', 'f'), key(session, 'hget', 'f'), key(session, 'hset', 'f', 'v'), key(session, 'hdel', 'f'),
    key(session, 'pexpire', '1'), { command: 'rename', args: [session, session], on: { kind: 'key', name: session } },
    key(index, 'sadd', 'm'), key(index, 'srem', 'm'), key(index, 'smembers'), key(index, 'sismember', 'm'), key(index, 'scard'),
    key(shard, 'zadd', '1', 'm'), key(shard, 'zrem', 'm'), key(shard, 'zrangebyscore', '-inf', '1', 'LIMIT', '0', '1'),
    key(principals, 'hget', 'm'), key(principals, 'hset', 'm', 'v'), key(principals, 'hdel', 'm'),
    channel(keys.eventChannel, 'publish', 'm'),
    channel(keys.eventChannel, 'subscribe'), channel(del, 'subscribe'), channel(expired, 'subscribe'),
  ];
  if (db !== 0) checks.push({ command: 'select', args: [String(db)] });
  if (cluster) checks.push({ command: 'cluster', args: ['slots'] }, { command: 'cluster', args: ['info'] }, { command: 'asking', args: [] });
  if (needs.migrationPrefix !== undefined) {
    const old = `${needs.migrationPrefix}x`;
    const marker = `{${old}}:${keys.namespace}:migrated`;
    checks.push({ command: 'eval', args: ['return 1', '2', old, marker], on: { kind: 'key', name: old } }, key(old, 'get'), key(old, 'del'), key(marker, 'get'), key(marker, 'set', 'v', 'PX', '1'), key(marker, 'del'));
  }
  return checks;
}

/**
 * The rules of an ACL user with exactly these permissions (docs/deployment.md shows them for the
 * defaults): the namespace's keys and channels, the keyevent channels of its database, and the commands.
 */
function aclRules(repository: RedisSessionRepository, needs: PermissionNeeds = {}): string {
  const checks = checksFor(repository, needs);
  const keyPatterns = [`~${glob(repository.keys.namespace)}:*`];
  if (needs.migrationPrefix !== undefined) keyPatterns.push(`~${glob(needs.migrationPrefix)}*`, `~{${glob(needs.migrationPrefix)}*`);
  const channels = [...new Set(checks.filter((check) => check.on?.kind === 'channel').map((check) => `&${glob(check.on!.name)}`))];
  const commands = [...new Set(checks.map((check) => `+${check.command === 'cluster' ? `cluster|${check.args[0]}` : check.command}`))];
  return ['resetkeys', ...keyPatterns, 'resetchannels', ...channels, '-@all', ...commands].join(' ');
}

/**
 * Whether the connected user may run everything the library sends, asked in one EVAL (one round
 * trip). Resolves to the problem's description, naming each missing permission and the ACL
 * rules that fix it; undefined when nothing is missing or nothing can be told (a server before
 * Redis 7.0, a check that failed for another reason: the operations themselves will say).
 */
async function missingRedisPermissions(repository: RedisSessionRepository, needs: PermissionNeeds = {}): Promise<string | undefined> {
  const checks = checksFor(repository, needs);
  const argv = checks.flatMap(({ command, args }) => [String(args.length + 1), command, ...args]);
  let refused: number[] | number;
  try {
    refused = (await withDeadline(repository.client.eval(CHECK_PERMISSIONS, 0, ...argv), repository.commandTimeoutMs)) as number[] | number;
  } catch (error) {
    if (!/NOPERM/.test((error as Error)?.message ?? '')) return undefined;
    return problemWith(repository, needs, 'EVAL (every session operation is a Lua script sent with EVAL; EVALSHA is not used)');
  }
  if (!Array.isArray(refused) || refused.length === 0) return undefined;
  // Grouped by key or channel: "HSET, HDEL on key …".
  const byTarget = new Map<string, string[]>();
  for (const position of refused) {
    const check = checks[position - 1];
    if (!check) continue;
    const name = check.command === 'cluster' ? `CLUSTER ${check.args[0].toUpperCase()}` : check.command.toUpperCase();
    const target = check.on ? ` on ${check.on.kind} ${check.on.name}` : '';
    const names = byTarget.get(target) ?? [];
    if (!names.includes(name)) names.push(name);
    byTarget.set(target, names);
  }
  return problemWith(repository, needs, [...byTarget].map(([target, names]) => names.join(', ') + target).join('; '));
}

/** Rejects with the problem when the user lacks a permission the library needs. */
export async function assertRedisPermissions(repository: RedisSessionRepository, needs: PermissionNeeds = {}): Promise<void> {
  const problem = await missingRedisPermissions(repository, needs);
  if (problem !== undefined) throw new Error(problem);
}

/**
 * Without requireRedisAtStartup the app starts whether Redis is there or not: the check runs once
 * the client is first ready, and a problem is logged as an error. `checked` settles once it ran
 * (never, if Redis never comes); `cancel` calls it off.
 */
export function checkRedisPermissionsWhenReady(repository: RedisSessionRepository, needs: PermissionNeeds = {}): { checked: Promise<void>; cancel(): void } {
  const { client } = repository;
  let ran: () => void = () => undefined;
  const checked = new Promise<void>((resolve) => {
    ran = resolve;
  });
  const check = () => {
    void missingRedisPermissions(repository, needs).then((problem) => {
      if (problem) new Logger(LOGGER_CONTEXT).error(problem);
      ran();
    });
  };
  if (client.status === 'ready') {
    check();
    return { checked, cancel: () => undefined };
  }
  client.once('ready', check);
  return { checked, cancel: () => client.off('ready', check) };
}

function problemWith(repository: RedisSessionRepository, needs: PermissionNeeds, missing: string): string {
  const user = usernameOf(repository.client);
  return (
    `EnableRedisHttpSession: the Redis user "${user}" at ${redisAddress(repository.client)} lacks permissions the sessions need: ${missing}. ` +
    `Grant them, e.g.: ACL SETUSER ${user} ${aclRules(repository, needs)} (see "Least-privilege ACL user" in docs/deployment.md)`
  );
}

function usernameOf(client: Redis | Cluster): string {
  const options = isClusterClient(client) ? client.options.redisOptions : client.options;
  return options?.username || 'default';
}

/** A literal name as an ACL key or channel pattern (glob-style). */
function glob(name: string): string {
  return name.replace(/[*?[\]\\]/g, '\\$&');
}
