-- pcount.lua (partition slot, without lib.lua): fold sessions' task counts into the partition's.
-- KEYS[1] snapshots (hash session id -> "c1,...,c7"), KEYS[2] totals (hash status -> sum),
-- KEYS[3] active sessions (set). ARGV: pairs session id, counts "c1,...,c7" (or "-" when the session
-- is gone: its snapshot is removed; or "@": the session's counts as they are now, read from KEYS[4],
-- its counts hash in this partition; a key of the session's slot, so on one server only, where a
-- submit sends this call in its own round trip, right after its script). Each total moves by the
-- difference with the session's previous snapshot, so repeating a call changes nothing. A session with unfinished tasks (statuses 1-4)
-- is in the active set, one without leaves it. Returns the totals as a flat list status, count.
local function split(s)
  local out = {}
  for v in string.gmatch(s, '[^,]+') do out[#out + 1] = tonumber(v) end
  return out
end
for j = 1, #ARGV, 2 do
  local sid, cs = ARGV[j], ARGV[j + 1]
  if cs == '@' then
    local c = redis.call('HMGET', KEYS[4], '1', '2', '3', '4', '5', '6', '7')
    for k = 1, 7 do c[k] = c[k] or '0' end
    cs = table.concat(c, ',')
    if cs == '0,0,0,0,0,0,0' then cs = '-' end
  end
  local old = split(redis.call('HGET', KEYS[1], sid) or '0,0,0,0,0,0,0')
  local new = cs == '-' and { 0, 0, 0, 0, 0, 0, 0 } or split(cs)
  for k = 1, 7 do
    local d = (new[k] or 0) - (old[k] or 0)
    if d ~= 0 then redis.call('HINCRBY', KEYS[2], tostring(k), d) end
  end
  if cs == '-' then
    redis.call('HDEL', KEYS[1], sid)
  else
    redis.call('HSET', KEYS[1], sid, cs)
  end
  if new[1] + new[2] + new[3] + new[4] == 0 then
    redis.call('SREM', KEYS[3], sid)
  else
    redis.call('SADD', KEYS[3], sid)
  end
end
return redis.call('HGETALL', KEYS[2])
