-- release.lua: hand leased tasks back to their queue without counting an attempt.
-- KEYS[1] session meta. ARGV: [1] now (ms), then pairs task id, token. Leases no longer held are skipped.
-- Returns the partitions where tasks became QUEUED.
local touched = {}
tprefetch_args(2, 2)
for j = 2, #ARGV, 2 do
  local t = tget(ARGV[j])
  if leased(t, ARGV[j + 1]) then hand_back(t, touched) end
end
return touched_list(touched)
