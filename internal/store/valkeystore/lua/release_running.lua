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
for j = 3, #ARGV, 2 do
  local t = tget(ARGV[j])
  if t and t[H_STATUS] == TASK_DISPATCHED and t[H_TOKEN] == ARGV[j + 1] then
    unlease(t)
    count(t[H_PARTITION], t[H_STATUS], TASK_QUEUED)
    t[H_STATUS] = TASK_QUEUED; t[H_TOKEN] = ''; t[H_ATTEMPT] = t[H_ATTEMPT] - 1
    t[H_AGENT] = ''; t[H_DISPATCH_MS] = 0; t[H_START_MS] = 0
    redis.call('ZADD', K(':q:' .. t[H_PARTITION]), qscore(t[H_PRIORITY], t[H_QUEUE_MS]), t.id)
    tput(t)
    touched[t[H_PARTITION]] = true
    ev_task(t.id, TASK_QUEUED, t[H_ATTEMPT])
  elseif t and t[H_STATUS] == TASK_RUNNING and t[H_TOKEN] == ARGV[j + 1] then
    if t[H_ATTEMPT] <= t[H_MAX_RETRIES] then
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
return touched_list(touched)
