-- When customers were last seen (ChatStore::record_seen), for chats of one partition.
-- KEYS: the chats' header hashes; ARGV: epoch milliseconds, in the same order.
-- Keeps the latest time in field `seen`; a chat not stored (no `rev`) is left alone, so a
-- purged chat is never brought back as a header with no record.
for i, key in ipairs(KEYS) do
  if redis.call('HEXISTS', key, 'rev') == 1 then
    local at = tonumber(ARGV[i])
    local known = tonumber(redis.call('HGET', key, 'seen') or '0')
    if at and at > known then
      redis.call('HSET', key, 'seen', ARGV[i])
    end
  end
end
return 'ok'
