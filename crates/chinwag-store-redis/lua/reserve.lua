-- Reserves ARGV[2] push seqs from the one counter every node draws from (KEYS[1]), first
-- raised to ARGV[1] (the highest seq written in any partition, read just before), so a
-- counter that is new or was lost never hands out a seq already in use. Returns the last
-- seq reserved.
local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local floor = tonumber(ARGV[1]) or 0
if floor > cur then
  redis.call('SET', KEYS[1], string.format('%d', floor))
end
return redis.call('INCRBY', KEYS[1], ARGV[2])
