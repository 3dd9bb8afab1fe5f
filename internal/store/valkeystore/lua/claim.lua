-- claim.lua: lease up to n QUEUED tasks of one partition of one session (priority, then age).
-- KEYS[1] session meta. ARGV: [1] partition, [2] n, [3] now (ms), [4] lease ttl (ms), [5] agent id,
-- [6] token prefix (unique per call).
-- Returns {claimed, how many of its priority queues hold entries (0: none left), weight, next retry
-- due ms or -1, session status} where claimed is a flat list of 9 values per task: id, attempt,
-- token, body (protobuf), payload, priority, max retries, queue ms, expected outputs (csv). Retry-delayed tasks that are due are queued first. Only a
-- RUNNING or CLOSED session (which runs what it holds to the end) yields tasks; n = 0 only queues
-- the due retries.
local part, n, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local meta = redis.call('HMGET', K(':m'), 'st', 'w')
local st = tonumber(meta[1] or '0')
local w = tonumber(meta[2] or '1')
-- the earliest retry decides whether any is due: most claims find none and make no second call
local due = next_due(part)
if due >= 0 and due <= now then
  promote_due(part, now)
  due = next_due(part)
end
if n == 0 or (st ~= SESSION_RUNNING and st ~= SESSION_CLOSED) then
  return { {}, queue_ready(part), w, due, st }
end
-- pop up to n entries, highest priority first (entries of tasks no longer QUEUED are dropped);
-- drained: every queue was found empty, so none holds entries
local popped, drained = pop_queues(part, n)
-- the lease expiry as a string once: a number passed to redis.call is converted for each task
local exp = string.format('%d', now + tonumber(ARGV[4]))
local agent, tokp = ARGV[5], ARGV[6]
local ids, leases = {}, {}
local claimed = {}
tprefetch(popped)
for j = 1, #popped do
  local t = tget(popped[j])
  if t and t[H_STATUS] == TASK_QUEUED then
    count(t[H_PARTITION], TASK_QUEUED, TASK_DISPATCHED)
    t[H_STATUS] = TASK_DISPATCHED; t[H_ATTEMPT] = t[H_ATTEMPT] + 1; t[H_TOKEN] = tokp .. istr(j); t[H_AGENT] = agent; t[H_DISPATCH_MS] = now; t[H_START_MS] = 0
    tput(t)
    leases[#leases + 1] = exp; leases[#leases + 1] = t.id
    ids[#ids + 1] = t.id
    claimed[#claimed + 1] = t
    ev_task(t.id, TASK_DISPATCHED, t[H_ATTEMPT])
  end
end
local out = {}
if #ids > 0 then
  redis.call('ZADD', K(':l:' .. part), unpack(leases))
  local big = {}
  for _, t in ipairs(claimed) do
    if not t[H_BODY] then big[#big + 1] = t.id end
  end
  local bodies = {}
  if #big > 0 then
    local got = redis.call('HMGET', K(':tb'), unpack(big))
    for j, tid in ipairs(big) do bodies[tid] = got[j] end
  end
  -- a session none of whose tasks has an inline payload has no :pl (one EXISTS, not a field a task)
  local payloads = NOPARTS
  if redis.call('EXISTS', K(':pl')) == 1 then payloads = redis.call('HMGET', K(':pl'), unpack(ids)) end
  for j, t in ipairs(claimed) do
    out[#out + 1] = t.id
    out[#out + 1] = t[H_ATTEMPT]
    out[#out + 1] = t[H_TOKEN]
    out[#out + 1] = t[H_BODY] or bodies[t.id] or ''
    out[#out + 1] = payloads[j] or ''
    out[#out + 1] = t[H_PRIORITY]
    out[#out + 1] = t[H_MAX_RETRIES]
    out[#out + 1] = t[H_QUEUE_MS]
    out[#out + 1] = t[H_OUTPUTS]
  end
end
return { out, drained and 0 or queue_ready(part), w, due, st }
