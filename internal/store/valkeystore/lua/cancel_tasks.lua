-- cancel_tasks.lua: cancel unfinished tasks (finished ones are left alone), aborting their outputs and
-- cancelling the tasks that depend on them.
-- KEYS[1] session meta. ARGV: [1] now (ms), then task ids.
-- Returns how many tasks were cancelled (dependents included); NOT_FOUND error.
if session_status() == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
local n = 0
for j = 2, #ARGV do n = n + end_tasks(ARGV[j], 7, '8', 'cancelled on request', ARGV[1]) end
return n
