-- Ack a batch of completed jobs: XACK + XDEL each entry still pending, count them, and
-- release a job's unique key if the job still holds it. An entry that was no longer
-- pending (a reclaim took it) keeps its hands off the key: the job's other run owns it now.
-- Returns how many entries were acked.
-- KEYS: stream, stats hash, unique keys...
-- ARGV: group, stats ttl s, then per job: entry id, job id, index of its unique key in
--       KEYS (0 = none)
--
-- Entries with a unique key are acked one by one, because only the XACK of that very entry
-- says whether its key may be released. The others (most jobs) share one XACK and one XDEL:
-- per-entry calls cost a third of the steady throughput (bench W1). Deleting the id of an
-- entry that XACK did not take is harmless: a reclaim that took it already deleted it.
local acked = 0
local plain = {}
for i = 3, #ARGV, 3 do
  local entry, job, k = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if k == 0 then
    plain[#plain + 1] = entry
  elseif redis.call('XACK', KEYS[1], ARGV[1], entry) == 1 then
    acked = acked + 1
    redis.call('XDEL', KEYS[1], entry)
    if redis.call('GET', KEYS[k]) == job then
      redis.call('DEL', KEYS[k])
    end
  end
end
-- unpack() puts every id on Lua's C stack: bounded chunks stay far below its limit.
for first = 1, #plain, 500 do
  local last = math.min(first + 499, #plain)
  acked = acked + redis.call('XACK', KEYS[1], ARGV[1], unpack(plain, first, last))
  redis.call('XDEL', KEYS[1], unpack(plain, first, last))
end
if acked > 0 then
  redis.call('HINCRBY', KEYS[2], 'processed', acked)
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
return acked
