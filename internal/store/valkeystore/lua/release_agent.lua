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
local leased = redis.call('ZRANGE', K(':l:' .. part), 0, -1)
tprefetch(leased) -- one read for the batch, not one per task
for _, tid in ipairs(leased) do
  local t = tget(tid)
  if t and (t[H_STATUS] == TASK_DISPATCHED or t[H_STATUS] == TASK_RUNNING) and t[H_AGENT] == agent then
    n = n + 1
    if t[H_STATUS] == TASK_DISPATCHED then
      hand_back(t, touched) -- never started: back to the queue as if never leased
    else
      take_back_running(t, now, reason, touched)
    end
  end
end
local out = { n }
for _, p in ipairs(touched_list(touched)) do out[#out + 1] = p end
return out
