-- One heartbeat, timed by Redis's clock: every beat is scored with the server's TIME and
-- entries older than the lapse are dropped by the same clock, so a host whose own clock
-- runs ahead can neither drop the others' fresh beats nor keep its own alive for longer.
-- KEYS: registry zset, this worker's record   ARGV: worker id, record, record TTL (s), lapse (ms)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now - tonumber(ARGV[4])))
redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return now
