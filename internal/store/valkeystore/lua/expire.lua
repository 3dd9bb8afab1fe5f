-- expire.lua: take back the expired leases of one partition of one session.
-- KEYS[1] session meta. ARGV: [1] partition, [2] now (ms), [3] max, [4] backoff base (ms),
-- [5] backoff max (ms), then up to max random numbers in [0,1) for the jitter.
-- Each attempt fails as LEASE_EXPIRED (retryable): retried after a backoff while retries remain.
-- Returns {taken back, next lease expiry ms or -1, next retry due ms or -1}.
local part, now, max = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local base, cap = tonumber(ARGV[4]), tonumber(ARGV[5])
local lk = K(':l:' .. part)
local n = 0
local expired = redis.call('ZRANGEBYSCORE', lk, '-inf', now, 'LIMIT', 0, max)
tprefetch(expired) -- one read for the batch, not one per task
for j, tid in ipairs(expired) do
  redis.call('ZREM', lk, tid)
  local t = tget(tid)
  if t and (t[H_STATUS] == TASK_DISPATCHED or t[H_STATUS] == TASK_RUNNING) then
    n = n + 1
    local msg = 'the lease of agent ' .. t[H_AGENT] .. ' expired (the agent stopped renewing it)'
    if t[H_ATTEMPT] <= t[H_MAX_RETRIES] then
      retry_later(t, now, now + backoff_ms(t[H_ATTEMPT], base, cap, tonumber(ARGV[5 + j] or '0')), ERROR_LEASE_EXPIRED, msg)
    else
      end_tasks(tid, TASK_FAILED, ERROR_LEASE_EXPIRED, msg .. ' (no retries left after ' .. t[H_ATTEMPT] .. ' attempts)', now)
    end
  end
end
flush_unleases()
local l = redis.call('ZRANGE', lk, 0, 0, 'WITHSCORES')
return { n, #l > 0 and tonumber(l[2]) or -1, next_due(part) }
