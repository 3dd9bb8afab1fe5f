-- session_status.lua: move a session to another status (PAUSED 2, RUNNING 1, CLOSED 3, CANCELLED 4).
-- KEYS[1] session meta. ARGV: [1] target status, [2] now (ms).
-- Returns {previous status, tasks cancelled}; NOT_FOUND or FAILED_PRECONDITION errors.
local from = session_status()
local to = tonumber(ARGV[1])
local now = ARGV[2]
if from == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
if from == to then return { from, 0 } end
local names = { 'running', 'paused', 'closed', 'cancelled', 'purged' }
local ok = (to == 1 and from == 2) or (to == 2 and from == 1) or (to == 3 and (from == 1 or from == 2)) or
  (to == 4 and (from == 1 or from == 2 or from == 3))
if not ok then
  return redis.error_reply('FAILED_PRECONDITION session ' .. SID .. ' is ' .. names[from] .. ' and a ' .. names[from] .. ' session cannot become ' .. names[to])
end
redis.call('HSET', K(':m'), 'st', to, 'ut', now)
ev_session(to)
local n = 0
if to == 4 then
  for _, tid in ipairs(redis.call('LRANGE', K(':tl'), 0, -1)) do
    n = n + end_tasks(tid, 7, '8', 'session cancelled', now)
  end
  -- results nobody will write any more
  for _, rid in ipairs(redis.call('LRANGE', K(':rl'), 0, -1)) do
    local r = rget(rid)
    if r and r.st == 1 then
      r.st = 3; r.ems = now; r.reason = 'session cancelled'
      rput(r)
      ev_result_aborted(rid, r.reason)
    end
  end
end
return { from, n }
