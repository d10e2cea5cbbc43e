-- Move a job to the dead set (acking its entry when it came from the stream), cap the
-- dead set, count it, and release its unique key if it still holds it.
-- KEYS: stream, dead zset, dead hash, stats hash, unique key (any key of the queue if none)
-- ARGV: group, entry id ('' = not from the stream), job id, dead envelope, now ms,
--       max dead, stats ttl s, '1' if KEYS[5] is a unique key
if ARGV[2] ~= '' then
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
    return 0
  end
  redis.call('XDEL', KEYS[1], ARGV[2])
end
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if excess > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  for _, id in ipairs(oldest) do
    redis.call('HDEL', KEYS[3], id)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
redis.call('HINCRBY', KEYS[4], 'dead', 1)
redis.call('EXPIRE', KEYS[4], ARGV[7])
if ARGV[8] == '1' and redis.call('GET', KEYS[5]) == ARGV[3] then
  redis.call('DEL', KEYS[5])
end
return 1
