-- session_status.lua: move a session to another status (PAUSED 2, RUNNING 1, CLOSED 3, CANCELLED 4).
-- KEYS[1] session meta. ARGV: [1] target status, [2] now (ms).
-- Cancelling only sets the cursors of cancel_chunk.lua, which ends the tasks in bounded chunks.
-- Returns {previous status, 0}; NOT_FOUND or FAILED_PRECONDITION errors.
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
  -- tasks and results are ended in bounded chunks by cancel_chunk.lua from these cursors
  redis.call('HSET', K(':m'), 'cc', 0, 'rc', 0)
end
return { from, n }
