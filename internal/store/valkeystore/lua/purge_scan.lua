-- purge_scan.lua: one bounded step of a purge: take a chunk of the session's results whose data is
-- an object (:ro; the caller deletes those objects), of its waiter lists (:wl; deleted here) and of
-- its SubmitTasks answers kept for idempotency (:rq; deleted here: a session submitted in batches of
-- 1,000 keeps 25 KB per batch for a day otherwise). Only those are looked at, so a session of ten
-- million zero-work tasks purges in a few steps.
-- KEYS[1] session meta. ARGV: [1] most entries to take from each of :ro, :wl and :rq.
-- Returns {object keys, 0 when more remains or -1 at the end}; NOT_FOUND or FAILED_PRECONDITION
-- errors when the session cannot be purged (see purge.lua).
local st = session_status()
if st == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
if st == SESSION_PURGED then return { {}, -1 } end
local err = purge_refusal(st)
if err then return redis.error_reply(err) end
local max = tonumber(ARGV[1])
local objs = {}
local ro = redis.call('SPOP', K(':ro'), max)
if #ro > 0 then
  for _, key in ipairs(redis.call('HMGET', K(':rd'), unpack(ro))) do
    if key then objs[#objs + 1] = key end
  end
end
local wl = redis.call('SPOP', K(':wl'), max)
for _, rid in ipairs(wl) do redis.call('DEL', K(':w:' .. rid)) end
local rq = redis.call('ZRANGE', K(':rq'), 0, max - 1)
if #rq > 0 then
  redis.call('ZREM', K(':rq'), unpack(rq))
  for _, req in ipairs(rq) do redis.call('UNLINK', K(':req:' .. req)) end
end
if #ro < max and #wl < max and #rq < max then return { objs, -1 } end
return { objs, 0 }
