-- release.lua: hand leased tasks back to their queue without counting an attempt.
-- KEYS[1] session meta. ARGV: [1] now (ms), then pairs task id, token. Leases no longer held are skipped.
-- Returns the partitions where tasks became QUEUED.
local touched = {}
for j = 2, #ARGV, 2 do
  local t = tget(ARGV[j])
  if leased(t, ARGV[j + 1]) then
    unlease(t)
    count(t.part, t.st, TASK_QUEUED)
    t.st = TASK_QUEUED; t.tok = ''; t.att = t.att - 1; t.agent = ''; t.dms = 0; t.sms = 0
    redis.call('ZADD', K(':q:' .. t.part), qscore(t.prio, t.qms), t.id)
    tput(t)
    touched[t.part] = true
    ev_task(t.id, TASK_QUEUED, t.att)
  end
end
return touched_list(touched)
