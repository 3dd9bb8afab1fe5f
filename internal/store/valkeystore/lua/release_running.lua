-- release_running.lua: hand leased tasks back at an agent's drain deadline. A task that was never
-- started (DISPATCHED) goes back without an attempt counted, as release.lua does; a RUNNING task's
-- attempt ends as LEASE_EXPIRED (retryable) with the reason, so a task longer than every drain
-- deadline cannot run forever across restarts: it is QUEUED again at once while retries remain, and
-- FAILED when none remain.
-- KEYS[1] session meta. ARGV: [1] now (ms), [2] reason, then pairs task id, token. Leases no longer
-- held are skipped.
-- Returns the partitions where tasks became QUEUED.
local now, reason = ARGV[1], ARGV[2]
local touched = {}
for j = 3, #ARGV, 2 do
  local t = tget(ARGV[j])
  if t and t.st == 3 and t.tok == ARGV[j + 1] then
    unlease(t)
    local raw = redis.call('HGET', K(':at'), t.id)
    if raw then
      local list = cjson.decode(raw)
      if list[#list] and list[#list].n == t.att then list[#list] = nil end
      if #list == 0 then redis.call('HDEL', K(':at'), t.id) else redis.call('HSET', K(':at'), t.id, cjson.encode(list)) end
    end
    count(t.part, t.st, 2)
    t.st = 2; t.tok = ''; t.att = t.att - 1
    redis.call('ZADD', K(':q:' .. t.part), qscore(t.prio, t.qms), t.id)
    tput(t)
    touched[t.part] = true
    event('k', '1', 'i', t.id, 's', '2', 'a', t.att)
  elseif t and t.st == 4 and t.tok == ARGV[j + 1] then
    if t.att <= t.maxr then
      unlease(t)
      attempt_end(t.id, t.att, now, '4', reason, true)
      enqueue(t, now, touched)
      tput(t)
      event('k', '1', 'i', t.id, 's', '2', 'a', t.att, 'ek', '4', 'em', reason, 'er', '1')
    else
      end_tasks(t.id, 6, '4', reason .. ' (no retries left after ' .. t.att .. ' attempts)', now)
    end
  end
end
return touched_list(touched)
