-- purge_scan.lua: one bounded step of a purge: take a chunk of the session's results whose data is
-- an object (:ro; the caller deletes those objects) and of its waiter lists (:wl; deleted here).
-- Only those are looked at, so a session of ten million zero-work tasks purges in one step.
-- KEYS[1] session meta. ARGV: [1] unused (0), [2] most results to take from each set.
-- Returns {object keys, 0 when more remains or -1 at the end}; NOT_FOUND or FAILED_PRECONDITION
-- errors when the session cannot be purged (see purge.lua).
local st = session_status()
if st == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
if st == SESSION_PURGED then return { {}, -1 } end
local err = purge_refusal(st)
if err then return redis.error_reply(err) end
local max = tonumber(ARGV[2])
local objs = {}
local ro = redis.call('SPOP', K(':ro'), max)
if #ro > 0 then
  for _, key in ipairs(redis.call('HMGET', K(':rd'), unpack(ro))) do
    if key then objs[#objs + 1] = key end
  end
end
local wl = redis.call('SPOP', K(':wl'), max)
for _, rid in ipairs(wl) do redis.call('DEL', K(':w:' .. rid)) end
if #ro < max and #wl < max then return { objs, -1 } end
return { objs, 0 }
