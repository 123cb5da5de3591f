-- Outbox writes on one partition. ARGV[1] is the operation:
--   'add', then (seq, JSON) pairs: adds jobs (a seq already there is refused, nothing written)
--   'update', seq, JSON: replaces the job of that seq, if any and if it has the same owner
--   'finish', seqs...: removes jobs
--   'claim', from ('' for jobs without owner), to: gives `to` every job of `from`; returns
--            the jobs as rewritten
-- KEYS: 1 outbox ZSET, 2 seq STRING, 3 owners SET
-- A job's owner is its JSON's "owner" field; owners are [A-Za-z0-9._~-] only, so the field
-- is found and rewritten as text (a string value's quotes are escaped in JSON, so
-- '"owner":"' can only be the field itself).
local function owner_of(json)
  return string.match(json, '"owner":"([%w%._~%-]+)"') or ''
end
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
    local o = owner_of(ARGV[i + 1])
    if o ~= '' then
      redis.call('SADD', KEYS[3], o)
    end
    if tonumber(ARGV[i]) > maxseq then
      maxseq = tonumber(ARGV[i])
    end
  end
  redis.call('SET', KEYS[2], string.format('%d', maxseq))
elseif op == 'update' then
  local old = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[2])
  if old[1] then
    if owner_of(old[1]) ~= owner_of(ARGV[3]) then
      return 'job ' .. ARGV[2] .. ' belongs to ' .. owner_of(old[1])
    end
    redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[2])
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  end
elseif op == 'finish' then
  for i = 2, #ARGV do
    redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[i], ARGV[i])
  end
elseif op == 'claim' then
  local from, to = ARGV[2], ARGV[3]
  local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  local claimed = {}
  for i = 1, #all, 2 do
    local job = all[i]
    if owner_of(job) == from then
      local moved
      if from == '' then
        moved = string.sub(job, 1, #job - 1) .. ',"owner":"' .. to .. '"}'
      else
        local at = string.find(job, '"owner":"' .. from .. '"', 1, true)
        moved = string.sub(job, 1, at - 1) .. '"owner":"' .. to .. '"' ..
          string.sub(job, at + #from + 10)
      end
      redis.call('ZREM', KEYS[1], job)
      redis.call('ZADD', KEYS[1], all[i + 1], moved)
      claimed[#claimed + 1] = moved
    end
  end
  if from ~= '' then
    redis.call('SREM', KEYS[3], from)
  end
  if #claimed > 0 then
    redis.call('SADD', KEYS[3], to)
  end
  return claimed
else
  return 'unknown operation'
end
return 'ok'
