-- One commit of one chat, atomically. Every check runs before the first write (a script
-- has no rollback): revision, unknown chat, event indexes, push seqs.
-- KEYS: 1 head HASH, 2 events STREAM, 3 open SET, 4 ended ZSET, 5 outbox ZSET, 6 seq STRING,
--       7 owners SET (a job's owner is its JSON's "owner" field, see outbox.lua)
-- ARGV: 1 chat id, 2 base rev, 3 '1' if a header follows, 4 header JSON, 5 ended_ms or '',
--       6 'PUBLISH' or 'SPUBLISH', 7 the partition's feed channel (same hash tag as the keys),
--       8 event count, then (index, JSON) pairs, then push count, then (seq, JSON) pairs.
-- Returns 'ok', 'ok unannounced' (committed, but the announcement failed), 'conflict', or a
-- reason the commit is invalid.
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev == nil then
  return 'corrupt revision'
end
if rev ~= tonumber(ARGV[2]) then
  return 'conflict'
end
local has_rec = ARGV[3] == '1'
if rev == 0 and not has_rec then
  return 'events for unknown session'
end
local last = 0
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if top[1] then
  last = tonumber(string.match(top[1][1], '^(%d+)-')) or 0
end
local n = tonumber(ARGV[8])
local at = 9
for i = 0, n - 1 do
  local idx = tonumber(ARGV[at + 2 * i])
  if idx == nil or idx <= last then
    return 'event index ' .. ARGV[at + 2 * i] .. ' is not after ' .. last
  end
  last = idx
end
local pat = at + 2 * n
local np = tonumber(ARGV[pat])
local maxseq = tonumber(redis.call('GET', KEYS[6]) or '0') or 0
for i = 1, np do
  local seq = ARGV[pat + 2 * i - 1]
  if redis.call('ZCOUNT', KEYS[5], seq, seq) > 0 then
    return 'push job ' .. seq .. ' exists'
  end
end
-- Writes.
redis.call('HSET', KEYS[1], 'rev', string.format('%d', rev + 1))
if has_rec then
  redis.call('HSET', KEYS[1], 'rec', ARGV[4])
  if ARGV[5] == '' then
    redis.call('SADD', KEYS[3], ARGV[1])
    redis.call('ZREM', KEYS[4], ARGV[1])
  else
    redis.call('SREM', KEYS[3], ARGV[1])
    redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
  end
end
for i = 0, n - 1 do
  redis.call('XADD', KEYS[2], ARGV[at + 2 * i] .. '-0', 'e', ARGV[at + 2 * i + 1])
end
for i = 1, np do
  local seq = ARGV[pat + 2 * i - 1]
  redis.call('ZADD', KEYS[5], seq, ARGV[pat + 2 * i])
  local owner = string.match(ARGV[pat + 2 * i], '"owner":"([%w%._~%-]+)"')
  if owner then
    redis.call('SADD', KEYS[7], owner)
  end
  if tonumber(seq) > maxseq then
    maxseq = tonumber(seq)
  end
end
if np > 0 then
  redis.call('SET', KEYS[6], string.format('%d', maxseq))
end
-- The announcement, after the writes: '<new rev>:<chat id>' on the partition's channel. It is
-- only a wake-up for the other nodes (at most once), so its failure must not fail a commit
-- whose writes have landed (no rollback): pcall, and say so.
local pub = redis.pcall(ARGV[6], ARGV[7], string.format('%d', rev + 1) .. ':' .. ARGV[1])
if type(pub) == 'table' and pub.err then
  return 'ok unannounced'
end
return 'ok'
