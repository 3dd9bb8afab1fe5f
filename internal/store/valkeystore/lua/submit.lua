-- submit.lua: store a batch of tasks atomically.
-- KEYS[1] session meta, KEYS[2] idempotency key of the request (KEYS[1] again when there is none).
-- ARGV: [1] now (ms), [2] request id ('' none), [3] max unfinished tasks per partition (0 none),
-- [4] n, then per task 8 values: id, partition, priority, max retries, dependencies (csv),
-- expected outputs (csv), protobuf body, inline payload.
-- Returns {answer, partitions with new QUEUED tasks} where answer is the flat list id, status...;
-- a repeated request returns the first answer and an empty partition list.
-- Errors (nothing written): NOT_FOUND, FAILED_PRECONDITION, ALREADY_EXISTS, RESOURCE_EXHAUSTED.
local st = session_status()
if st == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
if ARGV[2] ~= '' then
  local cached = redis.call('GET', KEYS[2])
  if cached then return { cjson.decode(cached), {} } end
end
if st ~= 1 and st ~= 2 then
  local why = { [3] = 'closed: it runs the tasks it holds but accepts no new ones',
    [4] = 'cancelled: it accepts no new tasks', [5] = 'purged: it accepts no new tasks' }
  return redis.error_reply('FAILED_PRECONDITION session ' .. SID .. ' is ' .. (why[st] or ('in status ' .. st)))
end
local specs = parse_tasks(4)
local err = check_tasks(specs, '', tonumber(ARGV[3]), {})
if err then return redis.error_reply(err[1] .. ' ' .. err[2]) end
local touched = {}
local answer = store_tasks(specs, ARGV[1], touched)
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], cjson.encode(answer), 'EX', 86400) end
return { answer, touched_list(touched) }
