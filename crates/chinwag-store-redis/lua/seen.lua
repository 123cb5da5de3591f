-- What nodes saw of customers (ChatStore::record_seen), for chats of one partition.
-- KEYS: the chats' header hashes; ARGV: three values per key, in the same order: when the
-- customer was last seen (epoch ms), the first position it has not fetched, when a live
-- CometD client last watched the chat (epoch ms; 0: not watched).
-- Keeps the largest value of each in fields `seen`, `fetched`, `watched`; a chat not stored
-- (no `rev`) is left alone, so a purged chat is never brought back as a header with no record.
local fields = {'seen', 'fetched', 'watched'}
for i, key in ipairs(KEYS) do
  if redis.call('HEXISTS', key, 'rev') == 1 then
    local known = redis.call('HMGET', key, 'seen', 'fetched', 'watched')
    for f = 1, 3 do
      local v = ARGV[(i - 1) * 3 + f]
      local at = tonumber(v)
      if at and at > 0 and at > tonumber(known[f] or '0') then
        redis.call('HSET', key, fields[f], v)
      end
    end
  end
end
return 'ok'
