-- cancel_tasks.lua: cancel unfinished tasks (finished ones are left alone), aborting their outputs and
-- cancelling the tasks that depend on them (CANCELLED, error kind CANCELLED, naming the aborted output).
-- KEYS[1] session meta. ARGV: [1] now (ms), then task ids.
-- Returns how many of the named tasks were unfinished and are now cancelled (dependents cancelled
-- with them are not counted); NOT_FOUND error.
if session_status() == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
local named = 0
tprefetch_args(2, 1)
for j = 2, #ARGV do
  local t = tget(ARGV[j])
  if t and not finished(t[H_STATUS]) then named = named + 1 end
end
for j = 2, #ARGV do end_tasks(ARGV[j], TASK_CANCELLED, ERROR_CANCELLED, 'cancelled on request', ARGV[1]) end
return named
