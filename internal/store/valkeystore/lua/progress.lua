-- progress.lua: append a progress event for a leased task.
-- KEYS[1] session meta. ARGV: [1] task id, [2] token, [3] fraction, [4] message.
-- Returns 1, or a LEASE_LOST error.
local t = tget(ARGV[1])
if not t or (t.st ~= 3 and t.st ~= 4) or t.tok ~= ARGV[2] then
  return redis.error_reply('LEASE_LOST the lease on task ' .. ARGV[1] .. ' is no longer held')
end
event('k', '4', 'i', t.id, 'f', ARGV[3], 'm', ARGV[4])
return 1
