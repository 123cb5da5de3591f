-- Outbox writes on one partition. ARGV[1] is the operation:
--   'add', then (seq, JSON) pairs: adds jobs (a seq already there is refused, nothing written)
--   'update', seq, JSON: replaces the job of that seq, if any
--   'finish', seqs...: removes jobs
-- KEYS: 1 outbox ZSET, 2 seq STRING
local op = ARGV[1]
if op == 'add' then
  for i = 2, #ARGV, 2 do
    if redis.call('ZCOUNT', KEYS[1], ARGV[i], ARGV[i]) > 0 then
      return 'push job ' .. ARGV[i] .. ' exists'
    end
  end
  local maxseq = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
  for i = 2, #ARGV, 2 do
    redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
    if tonumber(ARGV[i]) > maxseq then
      maxseq = tonumber(ARGV[i])
    end
  end
  redis.call('SET', KEYS[2], string.format('%d', maxseq))
elseif op == 'update' then
  if redis.call('ZCOUNT', KEYS[1], ARGV[2], ARGV[2]) > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[2])
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  end
elseif op == 'finish' then
  for i = 2, #ARGV do
    redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[i], ARGV[i])
  end
else
  return 'unknown operation'
end
return 'ok'
