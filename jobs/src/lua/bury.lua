-- Move a job to the dead set (acking its entry when it came from the stream), cap the
-- dead set (counting what the cap drops), count it, and release its unique key if it
-- still holds it. Returns {1, jobs dropped by the cap}, or {0, 0} if the entry was no
-- longer pending.
-- KEYS: stream, dead zset, dead hash, stats hash, unique key (any key of the queue if none),
--       dropped counter
-- ARGV: group, entry id ('' = not from the stream), job id, dead envelope, now ms,
--       max dead, stats ttl s, '1' if KEYS[5] is a unique key
if ARGV[2] ~= '' then
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
    return {0, 0}
  end
  redis.call('XDEL', KEYS[1], ARGV[2])
end
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
local dropped = 0
if excess > 0 then
  dropped = excess
  local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  for _, id in ipairs(oldest) do
    redis.call('HDEL', KEYS[3], id)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  redis.call('INCRBY', KEYS[6], excess)
  redis.call('HINCRBY', KEYS[4], 'dead_dropped', excess)
end
redis.call('HINCRBY', KEYS[4], 'dead', 1)
redis.call('EXPIRE', KEYS[4], ARGV[7])
if ARGV[8] == '1' and redis.call('GET', KEYS[5]) == ARGV[3] then
  redis.call('DEL', KEYS[5])
end
return {1, dropped}
