-- Move a dead job back to the stream (admin "retry"). Does nothing if it is no longer
-- dead, so two admins clicking retry enqueue it once. A unique job takes its unique key
-- again (it released it when it died); if another job holds that key now (the same job
-- was enqueued again meanwhile) the dead job stays dead and -1 is returned, so the two
-- never run side by side. The job leaves the dead set's kind and user indexes with it.
-- KEYS: dead zset, dead hash, stream, unique key (any key of the queue if none),
--       kind index, user index (any key of the queue if none)
-- ARGV: job id, envelope, '1' if KEYS[4] is a unique key, unique ttl ms
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  return 0
end
if ARGV[3] == '1' then
  local holder = redis.call('GET', KEYS[4])
  if holder and holder ~= ARGV[1] then
    return -1
  end
  redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[4])
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[2])
return 1
