-- Which of the named workers have no heartbeat within the lapse, judged by Redis's clock
-- (beats are scored with it, see beat.lua): one host's clock never decides another's fate.
-- KEYS: registry zset   ARGV: lapse (ms), worker ids...
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cutoff = now - tonumber(ARGV[1])
local lapsed = {}
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if not score or tonumber(score) < cutoff then
    lapsed[#lapsed + 1] = ARGV[i]
  end
end
return lapsed
