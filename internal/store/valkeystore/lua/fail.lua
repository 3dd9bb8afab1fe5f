-- fail.lua: record a failed attempt of a leased task.
-- KEYS[1] session meta. ARGV: [1] task id, [2] token, [3] now (ms), [4] error kind, [5] message,
-- [6] retryable (0/1), [7] retry due time (ms), [8] end status when not retried (6 failed, 7 cancelled).
-- Returns {1 retried / 0 ended, partition}; LEASE_LOST error.
local tid, now = ARGV[1], ARGV[3]
local t = tget(tid)
if not t or (t.st ~= 3 and t.st ~= 4) or t.tok ~= ARGV[2] then
  return redis.error_reply('LEASE_LOST the lease on task ' .. tid .. ' is no longer held (expired, released or the task already finished)')
end
local retryable = ARGV[6] == '1'
if retryable and ARGV[8] == '6' and t.att <= t.maxr then
  attempt_end(tid, t.att, now, ARGV[4], ARGV[5], true)
  unlease(t)
  count(t.part, t.st, 2)
  t.st = 2; t.tok = ''; t.qms = now
  tput(t)
  redis.call('ZADD', K(':d:' .. t.part), ARGV[7], tid)
  event('k', '1', 'i', tid, 's', '2', 'a', t.att, 'ek', ARGV[4], 'em', ARGV[5], 'er', '1')
  return { 1, t.part }
end
local msg = ARGV[5]
if retryable and ARGV[8] == '6' then msg = msg .. ' (no retries left after ' .. t.att .. ' attempts)' end
end_tasks(tid, tonumber(ARGV[8]), ARGV[4], msg, now)
return { 0, t.part }
