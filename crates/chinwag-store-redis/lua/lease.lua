-- Leases. KEYS: 1 the lease STRING ('<fence> <holder>', with a TTL), 2 the fence counter.
-- ARGV: 1 operation ('acquire', 'renew', 'release'), 2 holder, 3 TTL in ms.
-- acquire: a free lease is granted with a new fence (the counter's next value); the holder
--          extends its own and keeps its fence; returns the fence, or false if held by
--          another.
-- renew / release: only by the holder; return 1, or 0 if not held by it.
local op, holder = ARGV[1], ARGV[2]
local cur = redis.call('GET', KEYS[1])
local fence, who
if cur then
  fence, who = string.match(cur, '^(%d+) (.+)$')
end
if op == 'acquire' then
  if cur then
    if who ~= holder then
      return false
    end
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return fence
  end
  local f = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], string.format('%d', f) .. ' ' .. holder, 'PX', ARGV[3])
  return string.format('%d', f)
elseif op == 'renew' then
  if who ~= holder then
    return 0
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
elseif op == 'release' then
  if who ~= holder then
    return 0
  end
  redis.call('DEL', KEYS[1])
  return 1
end
return redis.error_reply('unknown lease operation')
