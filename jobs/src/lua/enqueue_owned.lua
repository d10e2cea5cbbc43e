-- Enqueue an owner's job for now: into the stream while no owner waits for a turn and no
-- entry is unread, else at the back of its owner's list (fair.lua). A unique job is not
-- enqueued while another job holds its key; it takes the key for ARGV[5] ms.
-- KEYS: stream, owners, waiting markers, clock, the owner's list, unique key (any key of the queue
--       if none)
-- ARGV: group, owner, envelope, job id, unique key ttl ms ('0' = none)
-- Returns {1 if enqueued (0: a duplicate), the job id or the key's holder, 1 if it waits}.
if ARGV[5] ~= '0' then
  local holder = redis.call('GET', KEYS[6])
  if holder then
    return {0, holder, 0}
  end
  redis.call('SET', KEYS[6], ARGV[4], 'PX', ARGV[5])
end
if redis.call('ZCARD', KEYS[2]) == 0 and fair_undelivered(KEYS[1], ARGV[1]) == 0 then
  redis.call('XADD', KEYS[1], '*', 'e', ARGV[3])
  return {1, ARGV[4], 0}
end
fair_hold(KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3])
return {1, ARGV[4], 1}
