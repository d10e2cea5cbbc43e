-- Move a dead job back to the stream (admin "retry"). Does nothing if it is no longer
-- dead, so two admins clicking retry enqueue it once.
-- KEYS: dead zset, dead hash, stream   ARGV: job id, envelope
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[2])
return 1
