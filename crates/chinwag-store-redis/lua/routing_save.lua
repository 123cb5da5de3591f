-- The shared routing state's save, atomically: lands only if the stored version is still the
-- one the state was computed from, then announces the save's news.
-- KEYS: 1 routing HASH (v: version, s: snapshot)
-- ARGV: 1 base version, 2 snapshot, 3 'PUBLISH' or 'SPUBLISH', 4 the routing channel (same
--       hash tag as the key), 5 news ('' = nothing to announce)
-- Returns 'ok', 'ok unannounced' (saved, but the announcement failed), 'conflict', or
-- 'corrupt version'.
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v == nil then
  return 'corrupt version'
end
if v ~= tonumber(ARGV[1]) then
  return 'conflict'
end
redis.call('HSET', KEYS[1], 'v', string.format('%d', v + 1), 's', ARGV[2])
if ARGV[5] ~= '' then
  -- Only a wake-up for the other nodes (at most once): its failure must not fail the save,
  -- which has landed (no rollback).
  local pub = redis.pcall(ARGV[3], ARGV[4], string.format('%d', v + 1) .. ':' .. ARGV[5])
  if type(pub) == 'table' and pub.err then
    return 'ok unannounced'
  end
end
return 'ok'
