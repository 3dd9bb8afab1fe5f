-- release_running.lua: hand leased tasks back at an agent's drain deadline. A task that was never
-- started (DISPATCHED) goes back without an attempt counted, as release.lua does; a RUNNING task's
-- attempt ends as LEASE_EXPIRED (retryable) with the reason, so a task longer than every drain
-- deadline cannot run forever across restarts: it is QUEUED again at once while retries remain, and
-- FAILED when none remain.
-- KEYS[1] session meta. ARGV: [1] now (ms), [2] reason, then pairs task id, token. Leases no longer
-- held are skipped.
-- Returns the partitions where tasks became QUEUED.
local now, reason = tonumber(ARGV[1]), ARGV[2]
local touched = {}
tprefetch_args(3, 2)
for j = 3, #ARGV, 2 do
  local t = tget(ARGV[j])
  if t and t[H_TOKEN] == ARGV[j + 1] then
    if t[H_STATUS] == TASK_DISPATCHED then
      hand_back(t, touched)
    elseif t[H_STATUS] == TASK_RUNNING then
      take_back_running(t, now, reason, touched)
    end
  end
end
return touched_list(touched)
