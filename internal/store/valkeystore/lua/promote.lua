-- promote.lua: queue the retry-delayed tasks of one partition of one session that are due.
-- KEYS[1] session meta. ARGV: [1] partition, [2] now (ms).
-- Returns {queue length, next due ms or -1}.
local qk, dk = K(':q:' .. ARGV[1]), K(':d:' .. ARGV[1])
for _, tid in ipairs(redis.call('ZRANGEBYSCORE', dk, '-inf', ARGV[2])) do
  local t = tget(tid)
  if t and t.st == 2 then redis.call('ZADD', qk, qscore(t.prio, t.qms), tid) end
  redis.call('ZREM', dk, tid)
end
local d = redis.call('ZRANGE', dk, 0, 0, 'WITHSCORES')
local due = -1
if #d > 0 then due = tonumber(d[2]) end
return { redis.call('ZCARD', qk), due }
