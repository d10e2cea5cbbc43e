-- Ack a delivered entry and put its successor envelope back: into the stream now, or
-- into the scheduled set at run_at. Does nothing if the entry is no longer pending (a
-- reclaim or an earlier settle already handled it), so a job is never duplicated. A job
-- scheduled as a retry or a deferral is also noted in the retrying or deferred index, so
-- the admin overview counts them without reading the scheduled set.
-- A unique job keeps its unique key for as long as it exists: the key's ttl is raised to
-- ARGV[8] (until run_at plus the kind's UNIQUE_FOR), so a job deferred or retried past
-- the key's first ttl still blocks a second copy. A key that already lapsed is taken
-- again; a key another job took meanwhile is left to that job.
-- KEYS: stream, scheduled, stats hash, retrying index, deferred index,
--       unique key (any key of the queue if none)
-- ARGV: group, entry id, envelope, run_at ms (0 = now), stats field ('' = none), stats ttl s,
--       job id, unique key ttl ms ('0' = the job has no unique key)
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return 0
end
redis.call('XDEL', KEYS[1], ARGV[2])
if tonumber(ARGV[4]) > 0 then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
  if ARGV[5] == 'retried' then
    redis.call('ZADD', KEYS[4], ARGV[4], ARGV[7])
  elseif ARGV[5] == 'deferred' then
    redis.call('ZADD', KEYS[5], ARGV[4], ARGV[7])
  end
else
  redis.call('XADD', KEYS[1], '*', 'e', ARGV[3])
end
if ARGV[8] ~= '0' then
  local holder = redis.call('GET', KEYS[6])
  if not holder then
    redis.call('SET', KEYS[6], ARGV[7], 'PX', ARGV[8])
  elseif holder == ARGV[7] and redis.call('PTTL', KEYS[6]) < tonumber(ARGV[8]) then
    redis.call('PEXPIRE', KEYS[6], ARGV[8])
  end
end
if ARGV[5] ~= '' then
  redis.call('HINCRBY', KEYS[3], ARGV[5], 1)
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
return 1
