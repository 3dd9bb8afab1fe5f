-- mark_running.lua: DISPATCHED -> RUNNING for a held lease (repeating it is a no-op).
-- KEYS[1] session meta. ARGV: [1] task id, [2] token, [3] now (ms).
-- Returns 1, or a LEASE_LOST error.
local t = tget(ARGV[1])
if not t or (t.st ~= 3 and t.st ~= 4) or t.tok ~= ARGV[2] then
  return redis.error_reply('LEASE_LOST the lease on task ' .. ARGV[1] .. ' is no longer held (expired, released or the task finished)')
end
if t.st == 4 then return 1 end
count(t.part, 3, 4)
t.st = 4
tput(t)
local raw = redis.call('HGET', K(':at'), t.id)
if raw then
  local list = cjson.decode(raw)
  local a = list[#list]
  if a and a.n == t.att then a.s = ARGV[3]; redis.call('HSET', K(':at'), t.id, cjson.encode(list)) end
end
event('k', '1', 'i', t.id, 's', '4', 'a', t.att)
return 1
