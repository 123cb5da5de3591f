-- Deletes ended chats of one partition that ended before a cutoff (checked again here: the
-- ids were listed by an earlier call), with their index entries. Returns how many.
-- KEYS: 1 ended ZSET, then (head, events) pairs. ARGV: 1 cutoff, then the chat ids.
local n = 0
for i = 2, #ARGV do
  local ended = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if ended and tonumber(ended) < tonumber(ARGV[1]) then
    redis.call('DEL', KEYS[2 * i - 2], KEYS[2 * i - 1])
    redis.call('ZREM', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
