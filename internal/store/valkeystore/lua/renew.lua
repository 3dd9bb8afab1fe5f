-- renew.lua: extend leases of one session.
-- KEYS[1] session meta. ARGV: [1] now (ms), [2] ttl (ms), then pairs task id, token.
-- Returns a flat list of index (1-based pair number), reason for each lease that is lost.
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local sst = session_status()
local lost = {}
local i = 0
for j = 3, #ARGV, 2 do
  i = i + 1
  local t = tget(ARGV[j])
  local reason = nil
  if not t then
    reason = 'finished'
  elseif t.st == 7 then
    reason = (sst == 4) and 'session cancelled' or 'cancelled'
  elseif t.st >= 5 then
    reason = 'finished'
  elseif (t.st ~= 3 and t.st ~= 4) or t.tok ~= ARGV[j + 1] then
    reason = 'expired'
  end
  if reason then
    lost[#lost + 1] = i
    lost[#lost + 1] = reason
  else
    redis.call('ZADD', K(':l:' .. t.part), 'XX', now + ttl, t.id)
  end
end
return lost
