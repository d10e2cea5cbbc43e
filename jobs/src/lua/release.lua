-- Hand back entries this consumer received but never started (fetched just before a
-- shutdown): copy each envelope to a new entry and ack the old one, so any worker can
-- take it at once instead of after the visibility timeout. Entries in ARGV[4..] (still
-- running) are skipped. Returns how many were handed back.
-- KEYS: stream   ARGV: group, consumer, count, skip ids...
local skip = {}
for i = 4, #ARGV do
  skip[ARGV[i]] = true
end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[3]), ARGV[2])
local n = 0
for _, p in ipairs(pending) do
  local id = p[1]
  if not skip[id] then
    local entry = redis.call('XRANGE', KEYS[1], id, id)
    if #entry > 0 then
      local fields = entry[1][2]
      redis.call('XADD', KEYS[1], '*', unpack(fields))
      n = n + 1
    end
    redis.call('XACK', KEYS[1], ARGV[1], id)
    redis.call('XDEL', KEYS[1], id)
  end
end
return n
