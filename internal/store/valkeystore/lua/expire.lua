-- expire.lua: take back the expired leases of one partition of one session.
-- KEYS[1] session meta. ARGV: [1] partition, [2] now (ms), [3] max, [4] backoff base (ms),
-- [5] backoff max (ms), then up to max random numbers in [0,1) for the jitter.
-- Each attempt fails as LEASE_EXPIRED (retryable): retried after a backoff while retries remain.
-- Returns {taken back, next lease expiry ms or -1, next retry due ms or -1}.
local part, now, max = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local base, cap = tonumber(ARGV[4]), tonumber(ARGV[5])
local lk, dk = K(':l:' .. part), K(':d:' .. part)
local n = 0
for j, tid in ipairs(redis.call('ZRANGEBYSCORE', lk, '-inf', now, 'LIMIT', 0, max)) do
  redis.call('ZREM', lk, tid)
  local t = tget(tid)
  if t and (t.st == 3 or t.st == 4) then
    n = n + 1
    local msg = 'the lease of agent ' .. t.agent .. ' expired (the agent stopped renewing it)'
    if t.att <= t.maxr then
      attempt_end(tid, t.att, now, '4', msg, true)
      local d = base * (2 ^ (t.att - 1))
      if d > cap then d = cap end
      d = math.floor(d / 2 + d / 2 * tonumber(ARGV[5 + j] or '0'))
      count(t.part, t.st, 2)
      t.st = 2; t.tok = ''; t.qms = now
      tput(t)
      redis.call('ZADD', dk, now + d, tid)
      event('k', '1', 'i', tid, 's', '2', 'a', t.att, 'ek', '4', 'em', msg, 'er', '1')
    else
      end_tasks(tid, 6, '4', msg .. ' (no retries left after ' .. t.att .. ' attempts)', now)
    end
  end
end
local l = redis.call('ZRANGE', lk, 0, 0, 'WITHSCORES')
local d = redis.call('ZRANGE', dk, 0, 0, 'WITHSCORES')
return { n, #l > 0 and tonumber(l[2]) or -1, #d > 0 and tonumber(d[2]) or -1 }
