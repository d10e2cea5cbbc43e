-- Reset the idle time of entries this consumer still owns, so a long job is not taken
-- for a dead worker's. An entry another consumer already claimed is left alone. The
-- first ARGV[3] ids have started (delivery count 1, as XREADGROUP left it); the others
-- wait in the read-ahead and get count 0, which tells crash recovery they never started
-- and go back without using an attempt. An entry read and started
-- between two keepalives still has count 1: started unless marked otherwise, so a job
-- that kills its worker at once always uses an attempt.
-- KEYS: stream   ARGV: group, consumer, how many started, entry ids...
local started, waiting = {}, {}
local n_started = tonumber(ARGV[3])
for i = 4, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #p > 0 then
    if i - 3 <= n_started then
      started[#started + 1] = ARGV[i]
    else
      waiting[#waiting + 1] = ARGV[i]
    end
  end
end
local function claim(ids, extra)
  if #ids == 0 then
    return
  end
  local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
  for _, id in ipairs(ids) do
    args[#args + 1] = id
  end
  for _, a in ipairs(extra) do
    args[#args + 1] = a
  end
  redis.call(unpack(args))
end
claim(started, {'RETRYCOUNT', 1, 'JUSTID'})
claim(waiting, {'RETRYCOUNT', 0, 'JUSTID'})
return #started + #waiting
