-- Empty the dead set with its kind and user indexes (listed in the index set), in one
-- step, so a job buried meanwhile cannot leave an index entry behind. Returns how many
-- jobs the dead set held.
-- KEYS: dead zset, dead hash, index set
local n = redis.call('ZCARD', KEYS[1])
for _, key in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  redis.call('DEL', key)
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return n
