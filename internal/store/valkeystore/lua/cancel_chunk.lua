-- cancel_chunk.lua: work through a CANCELLED session's tasks, then its results, in bounded chunks.
-- KEYS[1] session meta. ARGV: [1] now (ms), [2] most task or result ids to look at in this call.
-- The meta fields cc (next task index in :tl) and rc (next result index in :rl) are the cursors that
-- session_status.lua set when the session was cancelled; both are removed when the work is done.
-- Every unfinished task is cancelled with its dependents and outputs (end_tasks); then every result
-- still CREATED is aborted. Tasks added behind the cursor (subtasks of a task completing before its
-- turn) are reached later, and once the task cursor is at the end no lease is left to add any.
-- Returns {tasks cancelled, 1 when the session has nothing left to cancel else 0}.
local now, max = ARGV[1], tonumber(ARGV[2])
local m = redis.call('HMGET', K(':m'), 'st', 'cc', 'rc')
if tonumber(m[1] or '0') ~= SESSION_CANCELLED or not m[2] then return { 0, 1 } end
local cc, rc = tonumber(m[2]), tonumber(m[3] or '0')
local n, looked = 0, 0
local ids = redis.call('LRANGE', K(':tl'), cc, cc + max - 1)
tprefetch(ids) -- one read for the batch, not one per task
for _, tid in ipairs(ids) do n = n + end_tasks(tid, TASK_CANCELLED, ERROR_CANCELLED, 'session cancelled', now) end
looked = #ids
cc = cc + #ids
if looked < max then
  local rids = redis.call('LRANGE', K(':rl'), rc, rc + (max - looked) - 1)
  rprefetch(rids)
  for _, rid in ipairs(rids) do
    local r = rget(rid)
    if r and r.st == RESULT_CREATED then
      r.st = RESULT_ABORTED; r.ems = now; r.reason = 'session cancelled'
      rput(r)
      ev_result_aborted(rid, r.reason)
      redis.call('DEL', K(':w:' .. rid))
      redis.call('SREM', K(':wl'), rid)
    end
  end
  rc = rc + #rids
  if looked + #rids < max then
    redis.call('HDEL', K(':m'), 'cc', 'rc')
    return { n, 1 }
  end
end
redis.call('HSET', K(':m'), 'cc', cc, 'rc', rc)
return { n, 0 }
