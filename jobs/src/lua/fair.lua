-- Owners' turns, prepended to every script that lets an owner's job into the stream.
--
-- Without turns one owner's backlog of 10,000 jobs sits in the stream ahead of another
-- owner's 10, and the stream is read in order. With them an owner's job (one with a user
-- id) goes straight into the stream only while no owner waits and no worker is behind;
-- otherwise it joins its owner's list, and the workers, as slots free up, let jobs in one
-- owner at a time, lowest turn first (admit.lua). A job then waits behind one job of each
-- other waiting owner, not behind their whole backlogs, and a lone owner still gets every
-- slot. Jobs without an owner (periodic upkeep, benchmarks) always go straight in.

-- Entries of the stream that no worker has read yet (every entry, before a group exists).
local function fair_undelivered(stream, group)
  local len = redis.call('XLEN', stream)
  if len == 0 then
    return 0
  end
  local pending = redis.pcall('XPENDING', stream, group)
  if type(pending) ~= 'table' or pending.err then
    return len
  end
  return len - (tonumber(pending[1]) or 0)
end

-- The owner of an envelope, or nil. A plain search first, so the jobs without an owner,
-- most of what a busy mover moves, are never decoded.
local function fair_owner(envelope)
  if not string.find(envelope, '"user_id":', 1, true) then
    return nil
  end
  local ok, decoded = pcall(cjson.decode, envelope)
  if ok and type(decoded) == 'table' and type(decoded.user_id) == 'number' then
    return string.format('%d', decoded.user_id)
  end
  return nil
end

-- Puts a job at the back of its owner's list. An owner that was not waiting takes the turn
-- of the owner admitted last, so it goes before every owner already served past it.
local function fair_hold(owners, waiting, clock, list, owner, envelope)
  redis.call('RPUSH', list, envelope)
  redis.call('RPUSH', waiting, '1')
  if not redis.call('ZSCORE', owners, owner) then
    redis.call('ZADD', owners, tonumber(redis.call('GET', clock) or '0') or 0, owner)
  end
end
