-- Reads chats' headers without their events: for each head key, {'ok', header JSON or false,
-- rev or false}, or {'err', why} when the key cannot be read (wrong type), so one bad chat
-- never fails the rest.
-- KEYS: head1, head2, ... (one partition's, so one cluster slot)
local out = {}
for i = 1, #KEYS do
  local head = redis.pcall('HMGET', KEYS[i], 'rec', 'rev')
  if head.err then
    out[i] = {'err', head.err}
  else
    out[i] = {'ok', head[1], head[2]}
  end
end
return out
