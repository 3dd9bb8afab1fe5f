-- release_agent.lua: take back at once every lease an agent id holds in one partition of one session
-- (the agent restarted with the same identity: its previous life's tasks will never finish there).
-- A DISPATCHED task goes back without an attempt counted; a RUNNING task's attempt ends as
-- LEASE_EXPIRED (retryable) with the reason and is QUEUED again at once while retries remain, else
-- it is FAILED.
-- KEYS[1] session meta. ARGV: [1] partition, [2] agent id, [3] now (ms), [4] reason.
-- Returns {taken back, partitions where tasks became QUEUED...}.
local part, agent, now, reason = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local touched = {}
local n = 0
for _, tid in ipairs(redis.call('ZRANGE', K(':l:' .. part), 0, -1)) do
  local t = tget(tid)
  if t and (t[H_STATUS] == TASK_DISPATCHED or t[H_STATUS] == TASK_RUNNING) and t[H_AGENT] == agent then
    n = n + 1
    if t[H_STATUS] == TASK_DISPATCHED then
      -- never started: back to the queue as if never leased
      unlease(t)
      count(t[H_PARTITION], t[H_STATUS], TASK_QUEUED)
      t[H_STATUS] = TASK_QUEUED; t[H_TOKEN] = ''; t[H_ATTEMPT] = t[H_ATTEMPT] - 1
      t[H_AGENT] = ''; t[H_DISPATCH_MS] = 0; t[H_START_MS] = 0
      redis.call('ZADD', K(':q:' .. t[H_PARTITION]), qscore(t[H_PRIORITY], t[H_QUEUE_MS]), t.id)
      tput(t)
      touched[t[H_PARTITION]] = true
      ev_task(t.id, TASK_QUEUED, t[H_ATTEMPT])
    elseif t[H_ATTEMPT] <= t[H_MAX_RETRIES] then
      unlease(t)
      archive_attempt(t, now, ERROR_LEASE_EXPIRED, reason, true)
      enqueue(t, now, touched)
      tput(t)
      ev_task_error(t.id, TASK_QUEUED, t[H_ATTEMPT], ERROR_LEASE_EXPIRED, reason, true)
    else
      end_tasks(t.id, TASK_FAILED, ERROR_LEASE_EXPIRED, reason .. ' (no retries left after ' .. t[H_ATTEMPT] .. ' attempts)', now)
    end
  end
end
local out = { n }
for _, p in ipairs(touched_list(touched)) do out[#out + 1] = p end
return out
