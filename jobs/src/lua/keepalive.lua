-- Reset the idle time of entries this consumer still owns, so a long job is not taken
-- for a dead worker's. An entry another consumer already claimed is left alone.
-- KEYS: stream   ARGV: group, consumer, entry ids...
local mine = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #p > 0 then
    mine[#mine + 1] = ARGV[i]
  end
end
if #mine > 0 then
  local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
  for _, id in ipairs(mine) do
    args[#args + 1] = id
  end
  args[#args + 1] = 'JUSTID'
  redis.call(unpack(args))
end
return #mine
