-- Let waiting owners' jobs into the stream for ARGV[2] free worker slots, less the entries
-- already there unread (fair.lua says why owners take turns). The slots are shared among
-- the owners with the lowest turns, an equal share each (at least one); an owner's turn
-- moves on by as many jobs as it let in, so over many calls every waiting owner gets the
-- same number of jobs in, whatever its backlog. A worker runs this in the round trip of
-- its read, so what it lets in is what it reads.
-- KEYS: stream, owners, waiting markers, clock   ARGV: group, free slots, held list prefix
-- Returns {jobs let in, owners still waiting}.
if redis.call('ZCARD', KEYS[2]) == 0 then
  return {0, 0}
end
local want = tonumber(ARGV[2]) - fair_undelivered(KEYS[1], ARGV[1])
local admitted = 0
while admitted < want do
  local left = want - admitted
  local lowest = redis.call('ZRANGE', KEYS[2], 0, left - 1, 'WITHSCORES')
  if #lowest == 0 then
    break
  end
  local share = math.max(1, math.floor(left / (#lowest / 2)))
  for i = 1, #lowest, 2 do
    local owner, turn = lowest[i], tonumber(lowest[i + 1])
    local list = ARGV[3] .. owner
    local take = math.min(share, want - admitted)
    if take <= 0 then
      break
    end
    local envelopes = redis.call('LPOP', list, take)
    local n = 0
    if envelopes then
      for _, envelope in ipairs(envelopes) do
        redis.call('XADD', KEYS[1], '*', 'e', envelope)
      end
      n = #envelopes
      redis.call('RPOP', KEYS[3], n)
      admitted = admitted + n
    end
    if redis.call('LLEN', list) == 0 then
      redis.call('ZREM', KEYS[2], owner)
    else
      redis.call('ZADD', KEYS[2], turn + math.max(n, 1), owner)
    end
    redis.call('SET', KEYS[4], turn)
  end
end
return {admitted, redis.call('ZCARD', KEYS[2])}
