import type { Cluster, Redis } from 'ioredis';

/**
 * The hash field (beside Spring's, which Spring's reader ignores, and never read as an attribute)
 * that marks a session whose copy an instance keeps for its sockets: the save scripts then publish
 * its changes. Set by LOAD_WATCHED, gone with the session.
 */
export const WATCHED_FIELD = 'watchedBySockets';

/**
 * The Lua scripts that keep each session operation to one round trip and atomic. Each touches the
 * keys of one session only (one Cluster slot). Times come from the caller (epoch ms), as Spring.
 */

/**
 * KEYS[1] session; ARGV now, absolute lifetime in ms ('' for none). Refreshes a live session's idle
 * timer; never creates, revives or extends a session past its deadline (idle or absolute), and
 * never moves lastAccessedTime back (touches of two instances may arrive out of order). Returns
 * the live session's max-inactive interval (seconds; negative: never idles out), nil when it is gone.
 */
const TOUCH = `
local fields = redis.call('HMGET', KEYS[1], 'lastAccessedTime', 'maxInactiveInterval', 'creationTime')
local last, interval = tonumber(fields[1]), tonumber(fields[2])
if not last or not interval then return false end
local now = tonumber(ARGV[1])
-- Interval 0 means expired at once, whatever lastAccessedTime says (another instance's clock may run ahead).
if interval == 0 or (interval > 0 and last + interval * 1000 <= now) then return false end
local ttl = interval > 0 and interval * 1000 or nil
if ARGV[2] ~= '' then
  local left = (tonumber(fields[3]) or now) + tonumber(ARGV[2]) - now
  if left <= 0 then return false end
  if not ttl or left < ttl then ttl = left end
end
if last >= now then return interval end
redis.call('HSET', KEYS[1], 'lastAccessedTime', ARGV[1])
if ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return interval
`;

/**
 * KEYS[1] a new session's key; KEYS[2] its shard of the expiry index, given on a standalone server
 * only (on a Cluster it lives in another slot, and the caller files the session itself).
 * ARGV: event channel, created-event payload, id, creationTime, lastAccessedTime, interval, TTL in
 * ms ('' for none), deadline to file ('' for none), then field/value pairs.
 * Returns 1 when written, -1 when the id is taken. A script of its own, short, with the values the
 * caller worked out: it is every login's and every new session's write.
 */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
redis.call('HSET', KEYS[1], 'creationTime', ARGV[4], 'lastAccessedTime', ARGV[5], 'maxInactiveInterval', ARGV[6], unpack(ARGV, 9))
if ARGV[7] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[7]) end
if KEYS[2] and ARGV[8] ~= '' then redis.call('ZADD', KEYS[2], ARGV[8], ARGV[3]) end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`;

/**
 * Writes a session's delta. KEYS[1] the session's key; KEYS[2] (mode 'rename') its old key.
 * Mode 'copy' writes a whole session under a new id (Cluster changeId, where the old key is in
 * another slot), and announces nothing: the caller tells of the rename.
 * ARGV: mode ('copy'|'update'|'rename'), event channel, the mode's event payload (changed for
 * 'update' and renamed for 'rename', published only when the session is watched), expired-event payload,
 * interval ('' = unchanged), creationTime, lastAccessedTime, now, absolute lifetime in ms ('' for none),
 * n, then n field/value pairs, then fields to delete. A new interval sets the key's TTL to the earlier
 * of the idle deadline (from the last access) and the absolute one.
 * Returns 1 when written, 0 when the session is gone (nothing written: no resurrection), -1 when a new id is taken.
 */
const SAVE = `
local key = KEYS[1]
local mode = ARGV[1]
local whole = mode == 'copy'
if whole then
  if redis.call('EXISTS', key) == 1 then return -1 end
elseif mode == 'rename' then
  if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
  if redis.call('EXISTS', key) == 1 then return -1 end
  redis.call('RENAME', KEYS[2], key)
elseif redis.call('EXISTS', key) == 0 then
  return 0
end
local n = tonumber(ARGV[10])
local fields = {}
if whole then
  fields = {'creationTime', ARGV[6], 'lastAccessedTime', ARGV[7], 'maxInactiveInterval', ARGV[5]}
elseif ARGV[5] ~= '' then
  fields = {'maxInactiveInterval', ARGV[5]}
end
for i = 11, 10 + 2 * n, 2 do
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
end
if #fields > 0 then redis.call('HSET', key, unpack(fields)) end
if #ARGV > 10 + 2 * n then redis.call('HDEL', key, unpack(ARGV, 11 + 2 * n)) end
if ARGV[5] ~= '' then
  local interval = tonumber(ARGV[5])
  if interval == 0 then
    redis.call('PUBLISH', ARGV[2], ARGV[4])
    redis.call('DEL', key)
    return 1
  end
  -- Idle deadlines run from the last access, as TOUCH and every reader count them (not from this
  -- save: a socket message's save comes between throttled touches). The session may have been used
  -- since its load; a later access it saw itself is recorded first.
  local last = tonumber(ARGV[7])
  if not whole then
    local stored = tonumber(redis.call('HGET', key, 'lastAccessedTime')) or last
    if stored >= last then last = stored else redis.call('HSET', key, 'lastAccessedTime', ARGV[7]) end
  end
  local ttl = interval > 0 and math.max(1, last + interval * 1000 - tonumber(ARGV[8])) or nil
  if ARGV[9] ~= '' then
    local creation = tonumber(redis.call('HGET', key, 'creationTime')) or tonumber(ARGV[8])
    -- Past its lifetime already: Redis drops it at once, and the sweeper reports the expiry.
    local left = math.max(1, creation + tonumber(ARGV[9]) - tonumber(ARGV[8]))
    if not ttl or left < ttl then ttl = left end
  end
  if ttl then redis.call('PEXPIRE', key, ttl) else redis.call('PERSIST', key) end
end
if not whole and redis.call('HGET', key, '${WATCHED_FIELD}') then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return 1
`;

/**
 * The common save, a plain change of attributes (SAVE's 'update' without a new interval), with
 * the fewest arguments: KEYS[1] session; ARGV event channel, changed-event payload, n, then n
 * field/value pairs, then fields to delete. The change is published only for a watched session
 * (one HGET, a command the library already needs: sessions without sockets cost no message).
 * Returns 1 when written, 0 when the session is gone (nothing written: no resurrection).
 */
const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[3])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + 2 * n)) end
if #ARGV > 3 + 2 * n then redis.call('HDEL', KEYS[1], unpack(ARGV, 4 + 2 * n)) end
if redis.call('HGET', KEYS[1], '${WATCHED_FIELD}') then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return 1
`;

/**
 * KEYS[1] session. The session's hash (as HGETALL, empty when gone), marked watched on the way
 * (the mark is written once: later loads only read), so that every change after this load is
 * published: one script, so that no change falls between the load and the mark.
 */
const LOAD_WATCHED = `
local hash = redis.call('HGETALL', KEYS[1])
if #hash == 0 then return hash end
for i = 1, #hash, 2 do
  if hash[i] == '${WATCHED_FIELD}' then return hash end
end
redis.call('HSET', KEYS[1], '${WATCHED_FIELD}', '1')
return hash
`;

/**
 * KEYS[1] session; ARGV event channel, deleted-event payload (the principal's stored value is appended), principal field.
 * Publishes before deleting, so that listeners see our event ahead of the keyspace 'del'.
 * Returns the principal attribute's stored value ('' if none), or nil if the session did not exist.
 */
const DELETE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local principal = redis.call('HGET', KEYS[1], ARGV[3]) or ''
redis.call('PUBLISH', ARGV[1], ARGV[2] .. principal)
redis.call('DEL', KEYS[1])
return principal
`;

/**
 * KEYS[1] a shard of the expiry index; ARGV now, batch size, lease ms.
 * Claims up to a batch of due ids by filing them again a lease later, so that concurrent sweepers
 * on other instances skip them, and a sweeper that dies mid-batch is retried after the lease.
 */
const CLAIM_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local later = tonumber(ARGV[1]) + tonumber(ARGV[3])
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], later, id) end
return due
`;

/**
 * KEYS[1] shard; KEYS[2] shard's principal map; ARGV id.
 * Removes a gone session from its shard; returns its principal name ('' if none), or nil if
 * another instance (or a deletion) removed it first, so that each expiry is reported once.
 */
const FORGET = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return false end
local principal = redis.call('HGET', KEYS[2], ARGV[1]) or ''
redis.call('HDEL', KEYS[2], ARGV[1])
return principal
`;

/**
 * KEYS[1] a principal's index; ARGV id, the id it replaces ('' if none), max.
 * For `maximumSessions` with 'reject', before the session is written: files the id if the
 * principal has fewer than max other sessions filed (its own old id not counted). Returns 1 when
 * filed, 0 when the limit is reached (nothing changed).
 */
const ADMIT = `
local index, id, replaced = KEYS[1], ARGV[1], ARGV[2]
if redis.call('SISMEMBER', index, id) == 1 then return 1 end
local others = redis.call('SCARD', index)
if replaced ~= '' and redis.call('SISMEMBER', index, replaced) == 1 then others = others - 1 end
if others >= tonumber(ARGV[3]) then return 0 end
if replaced ~= '' then redis.call('SREM', index, replaced) end
redis.call('SADD', index, id)
return 1
`;

/**
 * KEYS[1] a principal's index; ARGV id, the id it replaces ('' if none), max, then pairs of a
 * filed id and its lastAccessedTime as the caller read it ('' when its session is gone).
 * For `maximumSessions` with 'expire-oldest', once the session is written: files the id, then
 * takes out of the index the least recently used beyond max (gone ones first; ids filed since the
 * caller looked count as recent, the session itself as the most recent) and returns them, for the
 * caller to delete. One script, so that concurrent logins never leave more than max.
 */
const TRIM = `
local index, id, replaced = KEYS[1], ARGV[1], ARGV[2]
if replaced ~= '' then redis.call('SREM', index, replaced) end
redis.call('SADD', index, id)
local members = redis.call('SMEMBERS', index)
local over = #members - tonumber(ARGV[3])
if over <= 0 then return {} end
local used = {}
for i = 4, #ARGV, 2 do used[ARGV[i]] = tonumber(ARGV[i + 1]) or -1 end
used[id] = 2 ^ 53
local function rank(member) return used[member] or 2 ^ 53 - 1 end
table.sort(members, function(x, y) return rank(x) < rank(y) end)
local evicted = {}
for i = 1, over do
  evicted[i] = members[i]
  redis.call('SREM', index, members[i])
end
return evicted
`;

/**
 * A script sent whole, with EVAL: Redis finds it in its script cache by the body's SHA1 (measured
 * with redis-benchmark: ~0.5 us of Redis' time more than EVALSHA). EVALSHA would need a resend
 * with EVAL after NOSCRIPT (first use on a node, a restart, a failover), and that resend lands
 * after commands issued behind it on the same connection: a touch could then arrive after a
 * later read. Not ioredis' defineCommand either: a client with defined scripts copies them onto
 * every auto-pipeline it makes (a write route sending its script this way ran 7% faster, median
 * of 7 rounds); and a client passed in is left as it was.
 */
class LuaScript {
  constructor(
    private readonly source: string,
    private readonly numberOfKeys: number,
  ) {}

  /** Keys first, then arguments. On a Cluster the first key routes the call (every key shares its slot). */
  run<R>(client: Redis | Cluster, keysAndArguments: (string | number)[]): Promise<R> {
    return client.eval(this.source, this.numberOfKeys, ...keysAndArguments) as Promise<R>;
  }
}

const touch = new LuaScript(TOUCH, 1);
const create = new LuaScript(CREATE, 1);
const createAndFile = new LuaScript(CREATE, 2);
const save = new LuaScript(SAVE, 1);
const rename = new LuaScript(SAVE, 2);
const update = new LuaScript(UPDATE, 1);
const loadWatched = new LuaScript(LOAD_WATCHED, 1);
const remove = new LuaScript(DELETE, 1);
const claimDue = new LuaScript(CLAIM_DUE, 1);
const forget = new LuaScript(FORGET, 2);
const admit = new LuaScript(ADMIT, 1);
const trim = new LuaScript(TRIM, 1);

/** The session scripts, run on one client. */
export class SessionScripts {
  constructor(private readonly client: Redis | Cluster) {}

  /** `lifetimeMs`: the absolute lifetime, '' for none. */
  touch(key: string, now: number, lifetimeMs: number | ''): Promise<number | null> {
    return touch.run(this.client, [key, now, lifetimeMs]);
  }

  /** `args`: CREATE's ARGV. `shardKey`: the expiry index's shard to file it in, on a standalone server; undefined on a Cluster. */
  create(key: string, shardKey: string | undefined, args: string[]): Promise<number> {
    return shardKey === undefined ? create.run(this.client, [key, ...args]) : createAndFile.run(this.client, [key, shardKey, ...args]);
  }

  /** `args`: SAVE's ARGV. */
  save(key: string, args: (string | number)[]): Promise<number> {
    return save.run(this.client, [key, ...args]);
  }

  /** `args`: SAVE's ARGV (mode 'rename'). */
  rename(key: string, oldKey: string, args: (string | number)[]): Promise<number> {
    return rename.run(this.client, [key, oldKey, ...args]);
  }

  /** `keyAndFields`: the session's key, then UPDATE's ARGV (made in one array: this is every write's path). */
  update(keyAndFields: (string | number)[]): Promise<number> {
    return update.run(this.client, keyAndFields);
  }

  /** The session's hash as HGETALL gives it (empty when gone), the session now watched. */
  async loadWatched(key: string): Promise<Record<string, string>> {
    const pairs = await loadWatched.run<string[]>(this.client, [key]);
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) hash[pairs[i]] = pairs[i + 1];
    return hash;
  }

  delete(key: string, channel: string, payloadPrefix: string, principalField: string): Promise<string | null> {
    return remove.run(this.client, [key, channel, payloadPrefix, principalField]);
  }

  claimDue(shardKey: string, now: number, batch: number, leaseMs: number): Promise<string[]> {
    return claimDue.run(this.client, [shardKey, now, batch, leaseMs]);
  }

  forget(shardKey: string, principalsKey: string, id: string): Promise<string | null> {
    return forget.run(this.client, [shardKey, principalsKey, id]);
  }

  admit(indexKey: string, id: string, replaced: string, max: number): Promise<number> {
    return admit.run(this.client, [indexKey, id, replaced, max]);
  }

  /** `lastUsed`: pairs of a filed id and its lastAccessedTime ('' when gone). */
  trim(indexKey: string, id: string, replaced: string, max: number, lastUsed: string[]): Promise<string[]> {
    return trim.run(this.client, [indexKey, id, replaced, max, ...lastUsed]);
  }
}
