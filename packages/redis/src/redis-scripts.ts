/**
 * Lua scripts. A script runs atomically on the server and is one round trip; with `appendfsync always` Redis
 * replies only after its writes are in the append-only file.
 */

/**
 * Appends a batch. ARGV[1] is the record count, then 7 arguments per record: the index in KEYS of its stream,
 * the topic kind (`event`, `entity`, `message`), the index in KEYS of the entity's latest-hash (its tombstones
 * sorted set is the next key) or the MINID for a message topic (`now - retentionMs`), the key, `1` if it has a
 * value, the value, the headers JSON (`''` for none). On an entity topic the key's previous entry is deleted
 * (XDEL) and the latest-hash updated, so the stream only ever holds the latest entry per key, and the
 * tombstones set notes a tombstone (or forgets one the value replaced); a message topic is trimmed (XADD MINID)
 * as it is appended. Returns the new stream ids in input order.
 */
export const PUBLISH_SCRIPT = `
local n = tonumber(ARGV[1])
local ids = {}
local a = 2
for r = 1, n do
  local stream = KEYS[tonumber(ARGV[a])]
  local kind = ARGV[a + 1]
  local aux = ARGV[a + 2]
  local fields = {'k', ARGV[a + 3]}
  if ARGV[a + 4] == '1' then
    fields[#fields + 1] = 'v'
    fields[#fields + 1] = ARGV[a + 5]
  end
  if ARGV[a + 6] ~= '' then
    fields[#fields + 1] = 'h'
    fields[#fields + 1] = ARGV[a + 6]
  end
  local id
  if kind == 'message' then
    id = redis.call('XADD', stream, 'MINID', aux, '*', unpack(fields))
  else
    id = redis.call('XADD', stream, '*', unpack(fields))
  end
  if kind == 'entity' then
    local latest = KEYS[tonumber(aux)]
    local tombstones = KEYS[tonumber(aux) + 1]
    local previous = redis.call('HGET', latest, ARGV[a + 3])
    if previous then redis.call('XDEL', stream, previous) end
    redis.call('HSET', latest, ARGV[a + 3], id)
    if ARGV[a + 4] == '1' then
      redis.call('ZREM', tombstones, ARGV[a + 3])
    else
      redis.call('ZADD', tombstones, string.match(id, '^(%d+)'), ARGV[a + 3])
    end
  end
  ids[r] = id
  a = a + 7
end
return ids
`;

/**
 * Creates the topic hash (KEYS[1]) unless it exists, adding the name (ARGV[4]) to the topic set (KEYS[2]);
 * returns the existing fields (HGETALL) or an empty list.
 */
export const ENSURE_TOPIC_SCRIPT = `
redis.call('SADD', KEYS[2], ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HGETALL', KEYS[1]) end
redis.call('HSET', KEYS[1], 'kind', ARGV[1], 'partitions', ARGV[2], 'retentionMs', ARGV[3])
return {}
`;

/**
 * Moves committed positions forward only: ARGV holds partition/offset pairs (decimal strings without leading
 * zeros, compared by length then text, as Lua numbers cannot hold them exactly).
 */
export const COMMIT_SCRIPT = `
for i = 1, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local wanted = ARGV[i + 1]
  if not current or #wanted > #current or (#wanted == #current and wanted > current) then
    redis.call('HSET', KEYS[1], ARGV[i], wanted)
  end
end
return 1
`;

/**
 * Deletes the tombstones of one entity partition written before ARGV[1] (ms): KEYS are the stream, the
 * latest-hash and the tombstones sorted set. A key in the sorted set always has a tombstone as its latest
 * entry (a later value removes it from the set), so its entry and its latest-hash field go. Returns the count.
 */
export const SWEEP_TOMBSTONES_SCRIPT = `
local keys = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[1], 'LIMIT', 0, 1000)
for _, key in ipairs(keys) do
  local id = redis.call('HGET', KEYS[2], key)
  if id then redis.call('XDEL', KEYS[1], id) end
  redis.call('HDEL', KEYS[2], key)
  redis.call('ZREM', KEYS[3], key)
end
return #keys
`;

/**
 * Claims partitions for a member. KEYS: the owner keys of the partitions the member should own (ARGV[3] of
 * them), then owner keys to release, then the group's changes stream. ARGV: member id, claim TTL (ms), count.
 * Per wanted partition returns 1 (it was the member's: renewed), 2 (it was free: now the member's) or 0 (another
 * member still owns it). Released partitions are deleted if still the member's, and a `released` entry wakes
 * the waiting members.
 */
export const CLAIM_SCRIPT = `
local me = ARGV[1]
local n = tonumber(ARGV[3])
local out = {}
for i = 1, n do
  local owner = redis.call('GET', KEYS[i])
  if owner == me then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    out[i] = 1
  elseif not owner then
    redis.call('SET', KEYS[i], me, 'PX', ARGV[2])
    out[i] = 2
  else
    out[i] = 0
  end
end
local released = 0
for i = n + 1, #KEYS - 1 do
  if redis.call('GET', KEYS[i]) == me then
    redis.call('DEL', KEYS[i])
    released = released + 1
  end
end
if released > 0 then
  redis.call('XADD', KEYS[#KEYS], 'MAXLEN', '~', '1000', '*', 'released', me)
end
return out
`;

/**
 * Counts a partition's entries for `lag`, read only. KEYS[1] is the stream, ARGV[1] the first id to count
 * (inclusive, or `(id` exclusive), ARGV[2] the most entries to count in this call (so one call never holds the
 * server for long). Returns `{last-generated-id, count, resume}`: `resume` is the id of the last entry counted
 * when the page was full (count again after it), `''` when the stream has no more. A missing stream answers
 * `{'0-0', 0, ''}`.
 */
export const LAG_SCRIPT = `
local stream = KEYS[1]
if redis.call('EXISTS', stream) == 0 then return {'0-0', 0, ''} end
local info = redis.call('XINFO', 'STREAM', stream)
local last = '0-0'
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1] end
end
if ARGV[1] == '0-0' then return {last, redis.call('XLEN', stream), ''} end
local limit = tonumber(ARGV[2])
local page = redis.call('XRANGE', stream, ARGV[1], '+', 'COUNT', limit)
if #page < limit then return {last, #page, ''} end
return {last, #page, page[#page][1]}
`;
