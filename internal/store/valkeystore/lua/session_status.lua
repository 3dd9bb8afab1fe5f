-- session_status.lua: move a session to another status (RUNNING, PAUSED, CLOSED or CANCELLED).
-- KEYS[1] session meta. ARGV: [1] target status, [2] now (ms).
-- Cancelling only sets the cursors of cancel_chunk.lua, which ends the tasks in bounded chunks.
-- Returns {previous status, 0}; NOT_FOUND or FAILED_PRECONDITION errors.
local from = session_status()
local to = tonumber(ARGV[1])
local now = ARGV[2]
if from == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
if from == to then return { from, 0 } end
local names = { [SESSION_RUNNING] = 'running', [SESSION_PAUSED] = 'paused', [SESSION_CLOSED] = 'closed',
  [SESSION_CANCELLED] = 'cancelled', [SESSION_PURGED] = 'purged' }
local open = from == SESSION_RUNNING or from == SESSION_PAUSED
local ok = (to == SESSION_RUNNING and from == SESSION_PAUSED) or (to == SESSION_PAUSED and from == SESSION_RUNNING) or
  (to == SESSION_CLOSED and open) or (to == SESSION_CANCELLED and (open or from == SESSION_CLOSED))
if not ok then
  return redis.error_reply('FAILED_PRECONDITION session ' .. SID .. ' is ' .. names[from] .. ' and a ' .. names[from] .. ' session cannot become ' .. names[to])
end
redis.call('HSET', K(':m'), 'st', to, 'ut', now)
ev_session(to)
local n = 0
if to == SESSION_CANCELLED then
  -- tasks and results are ended in bounded chunks by cancel_chunk.lua from these cursors
  redis.call('HSET', K(':m'), 'cc', 0, 'rc', 0)
end
return { from, n }
