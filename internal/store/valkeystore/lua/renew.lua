-- renew.lua: extend leases of one session.
-- KEYS[1] session meta. ARGV: [1] now (ms), [2] ttl (ms), then pairs task id, token.
-- Returns a flat list of index (1-based pair number), reason for each lease that is lost.
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local sst = session_status()
local lost = {}
local byPart = {}
tprefetch_args(3, 2)
local i = 0
for j = 3, #ARGV, 2 do
  i = i + 1
  local t = tget(ARGV[j])
  local reason = nil
  if not t then
    reason = 'finished'
  elseif t[H_STATUS] == TASK_CANCELLED then
    reason = (sst == SESSION_CANCELLED) and 'session cancelled' or 'cancelled'
  elseif finished(t[H_STATUS]) then
    reason = 'finished'
  elseif not leased(t, ARGV[j + 1]) then
    reason = 'expired'
  end
  if reason then
    lost[#lost + 1] = i
    lost[#lost + 1] = reason
  else
    local l = byPart[t[H_PARTITION]]
    if not l then l = {}; byPart[t[H_PARTITION]] = l end
    l[#l + 1] = now + ttl
    l[#l + 1] = t.id
  end
end
-- GT: a renewal that arrives after a later one (the renew loop and a stall's check run at once)
-- never shortens a lease
for p, l in pairs(byPart) do redis.call('ZADD', K(':l:' .. p), 'XX', 'GT', unpack(l)) end
return lost
