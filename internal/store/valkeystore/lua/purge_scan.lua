-- purge_scan.lua: one bounded step of a purge: collect the object-store keys of a chunk of the
-- session's results (the caller deletes those objects) and drop their waiter lists.
-- KEYS[1] session meta. ARGV: [1] offset in :rl, [2] most results to look at.
-- Returns {object keys, next offset or -1 at the end}; NOT_FOUND or FAILED_PRECONDITION errors when
-- the session cannot be purged (see purge.lua).
-- The records are read in one HMGET and only their status and location are parsed: a completed or
-- aborted result has no waiter list left (it was deleted then), and only location 2 is an object.
local st = session_status()
if st == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
if st == SESSION_PURGED then return { {}, -1 } end
local err = purge_refusal(st)
if err then return redis.error_reply(err) end
local off, max = tonumber(ARGV[1]), tonumber(ARGV[2])
local objs = {}
local rids = redis.call('LRANGE', K(':rl'), off, off + max - 1)
if #rids > 0 then
  local recs = redis.call('HMGET', K(':r'), unpack(rids))
  for j, rid in ipairs(rids) do
    local rec = recs[j]
    if rec then
      -- "st|owner|size|sha|loc|..."
      local rst, loc = string.match(rec, '^(%d+)|[^|]*|[^|]*|[^|]*|(%d*)')
      if loc == '2' then objs[#objs + 1] = redis.call('HGET', K(':rd'), rid) end
      if tonumber(rst) == RESULT_CREATED then redis.call('DEL', K(':w:' .. rid)) end
    end
  end
end
if #rids < max then return { objs, -1 } end
return { objs, off + #rids }
