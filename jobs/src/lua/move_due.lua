-- Move at most ARGV[2] due jobs from the scheduled set to the stream. Bounded, so a
-- backlog of 100,000 due jobs takes many short calls instead of one that blocks Redis
-- or overflows Lua's stack. A moved job leaves the retrying and deferred indexes (its id
-- is the envelope's first field). An owner's job joins its owner's list instead while
-- owners take turns (fair.lua; ARGV[3] = '1'): one owner's thousand deferred jobs coming
-- due together then wait their turns too. Returns {moved, next run_at or -1}.
-- KEYS: scheduled, stream, retrying index, deferred index, owners, waiting markers, clock
-- ARGV: now ms, limit, owners take turns ('1' or '0'), group, held list prefix
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local turns = ARGV[3] == '1'
local crowded = false
if turns and #due > 0 then
  crowded = redis.call('ZCARD', KEYS[5]) > 0 or fair_undelivered(KEYS[2], ARGV[4]) > 0
end
for _, member in ipairs(due) do
  local owner = nil
  if crowded then
    owner = fair_owner(member)
  end
  if owner then
    fair_hold(KEYS[5], KEYS[6], KEYS[7], ARGV[5] .. owner, owner, member)
  else
    redis.call('XADD', KEYS[2], '*', 'e', member)
    -- The stream now holds an unread entry: the next owner's job waits its turn.
    crowded = turns
  end
  redis.call('ZREM', KEYS[1], member)
  local id = string.match(member, '^{"id":"([^"]+)"')
  if id then
    redis.call('ZREM', KEYS[3], id)
    redis.call('ZREM', KEYS[4], id)
  end
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #nxt == 0 then
  return {#due, -1}
end
return {#due, tonumber(nxt[2])}
