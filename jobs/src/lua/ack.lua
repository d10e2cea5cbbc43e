-- Ack a batch of completed jobs: for each entry still pending, XACK + XDEL and release
-- its unique key if this job still holds it. An entry that was no longer pending (a
-- reclaim took it) keeps its hands off the key: the job's other run owns it now.
-- Counts only what it acked. Returns how many entries were acked.
-- KEYS: stream, stats hash, unique keys...
-- ARGV: group, stats ttl s, then per job: entry id, job id, index of its unique key in
--       KEYS (0 = none)
local acked = 0
for i = 3, #ARGV, 3 do
  local entry, job, k = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if redis.call('XACK', KEYS[1], ARGV[1], entry) == 1 then
    acked = acked + 1
    redis.call('XDEL', KEYS[1], entry)
    if k > 0 and redis.call('GET', KEYS[k]) == job then
      redis.call('DEL', KEYS[k])
    end
  end
end
if acked > 0 then
  redis.call('HINCRBY', KEYS[2], 'processed', acked)
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
return acked
