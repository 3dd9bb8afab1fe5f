-- purge_scan.lua: one bounded step of a purge: collect the object-store keys of a chunk of the
-- session's results (the caller deletes those objects) and drop their waiter lists.
-- KEYS[1] session meta. ARGV: [1] offset in :rl, [2] most results to look at.
-- Returns {object keys, next offset or -1 at the end}; NOT_FOUND or FAILED_PRECONDITION errors when
-- the session cannot be purged (see purge.lua).
local st = session_status()
if st == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
if st == 5 then return { {}, -1 } end
local err = purge_refusal(st)
if err then return redis.error_reply(err) end
local off, max = tonumber(ARGV[1]), tonumber(ARGV[2])
local objs = {}
local rids = redis.call('LRANGE', K(':rl'), off, off + max - 1)
for _, rid in ipairs(rids) do
  local r = rget(rid)
  if r and r.loc == '2' then objs[#objs + 1] = redis.call('HGET', K(':rd'), rid) end
  redis.call('DEL', K(':w:' .. rid))
end
if #rids < max then return { objs, -1 } end
return { objs, off + #rids }
