-- release.lua: hand leased tasks back to their queue without counting an attempt.
-- KEYS[1] session meta. ARGV: [1] now (ms), then pairs task id, token. Leases no longer held are skipped.
-- Returns the partitions where tasks became QUEUED.
local touched = {}
for j = 2, #ARGV, 2 do
  local t = tget(ARGV[j])
  if t and (t.st == 3 or t.st == 4) and t.tok == ARGV[j + 1] then
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
  end
end
return touched_list(touched)
