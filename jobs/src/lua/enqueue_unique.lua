-- Enqueue a job unless another job holds its unique key.
-- The key's ttl runs until the job is due plus the kind's UNIQUE_FOR, so a job scheduled
-- far ahead keeps its key while it waits.
-- KEYS: unique, stream, scheduled   ARGV: job id, ttl ms, envelope, run_at ms (0 = now)
local holder = redis.call('GET', KEYS[1])
if holder then
  return {0, holder}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if tonumber(ARGV[4]) > 0 then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
else
  redis.call('XADD', KEYS[2], '*', 'e', ARGV[3])
end
return {1, ARGV[1]}
