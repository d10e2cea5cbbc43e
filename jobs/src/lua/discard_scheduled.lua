-- Remove a waiting scheduled job and release its unique key if it holds it, atomically:
-- a discarded unique job must not keep its key, or every later enqueue of that job is
-- silently dropped until the key expires. It leaves the retrying and deferred indexes.
-- KEYS: scheduled, unique key (any key of the queue if none), retrying index, deferred index
-- ARGV: member, job id, '1' if KEYS[2] is a unique key
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
if ARGV[3] == '1' and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('DEL', KEYS[2])
end
return 1
