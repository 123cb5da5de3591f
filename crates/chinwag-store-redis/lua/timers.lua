-- The chats' timers of one partition. KEYS: 1 the timers ZSET (member `<kind>:<chatId>`,
-- scored by when it can next be claimed: its due time, or its claim's end while claimed),
-- 2 the timers HASH (same member -> `<due>` or `<due> <holder> <until>` while claimed).
-- Holders are [A-Za-z0-9._~-] only, so a space separates the fields. ARGV[1] is the operation:
--   'put', 'replace'|'keep', then (member, due) pairs: sets timers (replace drops a claim;
--          keep leaves a member that has a timer alone)
--   'cancel', members...: removes timers
--   'claim', now, holder, max, claim_ms: claims up to max timers ready at `now`, earliest
--          first; returns (member, due, until) triples
--   'done', member, holder, until: removes the timer if that claim is its current one
--   'again', member, holder, until, due: moves it to `due`, unclaimed, under the same check
-- Returns 'ok', the claimed triples, or 1/0 for done and again.
local op = ARGV[1]
if op == 'put' then
  local keep = ARGV[2] == 'keep'
  for i = 3, #ARGV, 2 do
    local m, due = ARGV[i], ARGV[i + 1]
    if not (keep and redis.call('HEXISTS', KEYS[2], m) == 1) then
      redis.call('ZADD', KEYS[1], due, m)
      redis.call('HSET', KEYS[2], m, due)
    end
  end
elseif op == 'cancel' then
  for i = 2, #ARGV do
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
  end
elseif op == 'claim' then
  local now, holder = ARGV[2], ARGV[3]
  local max, claim = tonumber(ARGV[4]), tonumber(ARGV[5])
  local till = string.format('%d', tonumber(now) + claim)
  local ready = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, max)
  local out = {}
  for _, m in ipairs(ready) do
    local meta = redis.call('HGET', KEYS[2], m)
    local due = meta and string.match(meta, '^(%-?%d+)')
    if due then
      redis.call('ZADD', KEYS[1], till, m)
      redis.call('HSET', KEYS[2], m, due .. ' ' .. holder .. ' ' .. till)
      out[#out + 1] = m
      out[#out + 1] = due
      out[#out + 1] = till
    else
      -- An index entry without its timer (cannot be written by these scripts): dropped.
      redis.call('ZREM', KEYS[1], m)
    end
  end
  return out
elseif op == 'done' or op == 'again' then
  local m, holder, till = ARGV[2], ARGV[3], ARGV[4]
  local meta = redis.call('HGET', KEYS[2], m)
  if not meta then
    return 0
  end
  local due, h, u = string.match(meta, '^(%-?%d+) (%S+) (%-?%d+)$')
  if h ~= holder or u ~= till then
    return 0
  end
  if op == 'done' then
    redis.call('ZREM', KEYS[1], m)
    redis.call('HDEL', KEYS[2], m)
  else
    redis.call('ZADD', KEYS[1], ARGV[5], m)
    redis.call('HSET', KEYS[2], m, ARGV[5])
  end
  return 1
else
  return 'unknown operation'
end
return 'ok'
