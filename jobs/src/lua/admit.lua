-- Let waiting owners' jobs into the stream for ARGV[2] free worker slots, less the entries
-- already there unread: one job of the owner with the lowest turn, whose turn then moves
-- one on, again and again. A worker runs this in the same round trip as its read, so what
-- it lets in is what it reads (fair.lua says why owners take turns).
-- KEYS: stream, owners, waiting markers, clock   ARGV: group, free slots, held list prefix
-- Returns {jobs let in, owners still waiting}.
if redis.call('ZCARD', KEYS[2]) == 0 then
  return {0, 0}
end
local want = tonumber(ARGV[2]) - fair_undelivered(KEYS[1], ARGV[1])
local admitted = 0
while admitted < want do
  local top = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #top == 0 then
    break
  end
  local owner, turn = top[1], tonumber(top[2])
  local list = ARGV[3] .. owner
  local envelope = redis.call('LPOP', list)
  if envelope then
    redis.call('XADD', KEYS[1], '*', 'e', envelope)
    redis.call('RPOP', KEYS[3])
    admitted = admitted + 1
  end
  if redis.call('LLEN', list) == 0 then
    redis.call('ZREM', KEYS[2], owner)
  else
    redis.call('ZADD', KEYS[2], turn + 1, owner)
  end
  redis.call('SET', KEYS[4], turn)
end
return {admitted, redis.call('ZCARD', KEYS[2])}
