-- Move a job to the dead set (acking its entry when it came from the stream), index it by
-- kind and by user, cap the dead set (counting what the cap drops, and taking the dropped
-- jobs out of their indexes too), count it, and release its unique key if it still holds
-- it. Returns {1, jobs dropped by the cap}, or {0, 0} if the entry was no longer pending.
-- KEYS: stream, dead zset, dead hash, stats hash, unique key (any key of the queue if none),
--       dropped counter, kind index, user index (any key of the queue if none), index set
-- ARGV: group, entry id ('' = not from the stream), job id, dead envelope, now ms,
--       max dead, stats ttl s, '1' if KEYS[5] is a unique key, '1' if KEYS[8] is a user
--       index, kind index prefix, user index prefix
-- The dropped jobs' index keys are built here from the prefixes (they are only known once
-- their envelopes are read); they share the queue's hash tag, so the script stays on one
-- Redis Cluster slot.
if ARGV[2] ~= '' then
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
    return {0, 0}
  end
  redis.call('XDEL', KEYS[1], ARGV[2])
end
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[7], ARGV[5], ARGV[3])
redis.call('SADD', KEYS[9], KEYS[7])
if ARGV[9] == '1' then
  redis.call('ZADD', KEYS[8], ARGV[5], ARGV[3])
  redis.call('SADD', KEYS[9], KEYS[8])
end
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
local dropped = 0
if excess > 0 then
  dropped = excess
  local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  for _, id in ipairs(oldest) do
    local body = redis.call('HGET', KEYS[3], id)
    if body then
      local ok, env = pcall(cjson.decode, body)
      if ok and type(env) == 'table' then
        if type(env.kind) == 'string' then
          redis.call('ZREM', ARGV[10] .. env.kind, id)
        end
        if type(env.user_id) == 'number' then
          redis.call('ZREM', ARGV[11] .. string.format('%d', env.user_id), id)
        end
      end
    end
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
