-- release_agent.lua: take back at once the leases an agent holds in one partition of one session
-- (the agent is dead: its heartbeat lapsed, or it restarted under the same id).
-- KEYS[1] session meta. ARGV: [1] partition, [2] agent id, [3] now (ms), [4] why (for the attempt's
-- error). The session's lease set holds at most the tasks in flight in it, which bounds the work.
-- Each attempt fails as LEASE_EXPIRED (retryable, counted): the task is QUEUED again at once while
-- retries remain, FAILED otherwise. Returns {taken back, queue length, earliest remaining lease
-- expiry ms or -1}.
local part, agent, now = ARGV[1], ARGV[2], ARGV[3]
local lk = K(':l:' .. part)
local n = 0
local touched = {}
for _, tid in ipairs(redis.call('ZRANGE', lk, 0, -1)) do
  local t = tget(tid)
  if not t or (t.st ~= 3 and t.st ~= 4) then
    redis.call('ZREM', lk, tid)
  elseif t.agent == agent then
    n = n + 1
    local msg = 'agent ' .. agent .. ' ' .. ARGV[4]
    if t.att <= t.maxr then
      attempt_end(tid, t.att, now, '4', msg, true)
      unlease(t)
      enqueue(t, now, touched)
      tput(t)
      event('k', '1', 'i', tid, 's', '2', 'a', t.att, 'ek', '4', 'em', msg, 'er', '1')
    else
      end_tasks(tid, 6, '4', msg .. ' (no retries left after ' .. t.att .. ' attempts)', now)
    end
  end
end
local l = redis.call('ZRANGE', lk, 0, 0, 'WITHSCORES')
return { n, redis.call('ZCARD', K(':q:' .. part)), #l > 0 and tonumber(l[2]) or -1 }
