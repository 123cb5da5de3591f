-- Reads chats (whole, or from a given event on), atomically: for each (head, events) key pair, either
-- {'ok', header JSON or false, rev or false, {id1, body1, id2, body2, ...}} or
-- {'err', why} when the keys cannot be read (wrong type), so one bad chat never fails the rest.
-- KEYS: head1, events1, head2, events2, ...
-- ARGV (optional): per chat, the first stream ID to read ('-': from the start), so a reader
-- that holds a chat's first events reads only the ones after them.
local out = {}
for i = 1, #KEYS, 2 do
  local from = ARGV[(i + 1) / 2] or '-'
  local head = redis.pcall('HMGET', KEYS[i], 'rec', 'rev')
  if head.err then
    out[#out + 1] = {'err', head.err}
  else
    local ev = redis.pcall('XRANGE', KEYS[i + 1], from, '+')
    if ev.err then
      out[#out + 1] = {'err', ev.err}
    else
      local flat = {}
      for _, entry in ipairs(ev) do
        local body = false
        local f = entry[2]
        for j = 1, #f, 2 do
          if f[j] == 'e' then
            body = f[j + 1]
          end
        end
        flat[#flat + 1] = entry[1]
        flat[#flat + 1] = body
      end
      out[#out + 1] = {'ok', head[1], head[2], flat}
    end
  end
end
return out
