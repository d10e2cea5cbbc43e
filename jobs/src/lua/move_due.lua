-- Move at most ARGV[2] due jobs from the scheduled set to the stream. Bounded, so a
-- backlog of 100,000 due jobs takes many short calls instead of one that blocks Redis
-- or overflows Lua's stack. A moved job leaves the retrying and deferred indexes (its id
-- is the envelope's first field). Returns {moved, next run_at or -1}.
-- KEYS: scheduled, stream, retrying index, deferred index   ARGV: now ms, limit
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'e', member)
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
