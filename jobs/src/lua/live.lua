-- The live workers, newest beat first, after dropping the entries whose beat lapsed by
-- Redis's clock (see beat.lua). At most ARGV[2] ids.
-- KEYS: registry zset   ARGV: lapse (ms), most ids
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now - tonumber(ARGV[1])))
return redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
