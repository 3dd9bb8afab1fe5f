-- reconcile.lua: report what one session holds in one partition, for the reconciler (reads only).
-- KEYS[1] session meta. ARGV: [1] partition, [2] most lease entries to look at for their agents.
-- Returns {session status (0 = gone), how many of its priority queues hold entries, earliest retry due ms or -1, earliest lease
-- expiry ms or -1, counts "c1,...,c7" of its tasks in the partition, agents holding leases}.
local part = ARGV[1]
local st = session_status()
local dk, lk = K(':d:' .. part), K(':l:' .. part)
local function first(key)
  local v = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if #v == 0 then return -1 end
  return tonumber(v[2])
end
local c = redis.call('HMGET', K(':pc:' .. part), '1', '2', '3', '4', '5', '6', '7')
for j = 1, 7 do c[j] = c[j] or '0' end
local agents, seen = {}, {}
local leased = redis.call('ZRANGE', lk, 0, tonumber(ARGV[2]) - 1)
tprefetch(leased) -- one read for the batch, not one per task
for _, tid in ipairs(leased) do
  local t = tget(tid)
  if t and (t[H_STATUS] == TASK_DISPATCHED or t[H_STATUS] == TASK_RUNNING) and t[H_AGENT] ~= '' and not seen[t[H_AGENT]] then
    seen[t[H_AGENT]] = true
    agents[#agents + 1] = t[H_AGENT]
  end
end
return { st, queue_ready(part), first(dk), first(lk), table.concat(c, ','), agents }
