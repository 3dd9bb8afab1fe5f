-- release.lua: hand leased tasks back to their queue without counting an attempt.
-- KEYS[1] session meta. ARGV: [1] now (ms), then pairs task id, token. Leases no longer held are skipped.
-- Returns the partitions where tasks became QUEUED.
local touched = {}
for j = 2, #ARGV, 2 do
  local t = tget(ARGV[j])
  if leased(t, ARGV[j + 1]) then
    unlease(t)
    count(t[H_PARTITION], t[H_STATUS], TASK_QUEUED)
    t[H_STATUS] = TASK_QUEUED; t[H_TOKEN] = ''; t[H_ATTEMPT] = t[H_ATTEMPT] - 1; t[H_AGENT] = ''; t[H_DISPATCH_MS] = 0; t[H_START_MS] = 0
    redis.call('ZADD', K(':q:' .. t[H_PARTITION]), qscore(t[H_PRIORITY], t[H_QUEUE_MS]), t.id)
    tput(t)
    touched[t[H_PARTITION]] = true
    ev_task(t.id, TASK_QUEUED, t[H_ATTEMPT])
  end
end
return touched_list(touched)
