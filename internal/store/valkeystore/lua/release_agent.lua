-- release_agent.lua: take back at once every lease an agent id holds in one partition of one session
-- (the agent restarted with the same identity: its previous life's tasks will never finish there).
-- A DISPATCHED task goes back without an attempt counted; a RUNNING task's attempt ends as
-- LEASE_EXPIRED (retryable) with the reason and is QUEUED again at once while retries remain, else
-- it is FAILED.
-- KEYS[1] session meta. ARGV: [1] partition, [2] agent id, [3] now (ms), [4] reason.
-- Returns {taken back, partitions where tasks became QUEUED...}.
local part, agent, now, reason = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local touched = {}
local n = 0
for _, tid in ipairs(redis.call('ZRANGE', K(':l:' .. part), 0, -1)) do
  local t = tget(tid)
  if t and (t.st == 3 or t.st == 4) and t.agent == agent then
    n = n + 1
    if t.st == 3 then
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
    elseif t.att <= t.maxr then
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
local out = { n }
for _, p in ipairs(touched_list(touched)) do out[#out + 1] = p end
return out
