-- Delete a consumer only if it holds no pending entry, checked atomically: deleting one
-- that holds entries would orphan them for good.
-- KEYS: stream   ARGV: group, consumer
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p == 0 then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
