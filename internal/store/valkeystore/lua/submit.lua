-- submit.lua: store a batch of tasks atomically.
-- KEYS[1] session meta, KEYS[2] idempotency key of the request (KEYS[1] again when there is none).
-- ARGV: [1] now (ms), [2] request id ('' none), [3] most PENDING+QUEUED tasks the session may hold
-- (0 none; per-session admission),
-- [4] n, then per task 8 values: id ('': the next number of the session), partition, priority, max retries, dependencies (csv),
-- expected outputs (csv), protobuf body, inline payload.
-- The short form of a batch ([4] 'F' .. n; tasks.go shortForm) is for tasks that the store numbers
-- and that have no dependencies: 7 values a task, partition, priority, max retries, expected
-- outputs (csv), body, payload and the task's header as the caller packed it (QUEUED since ARGV[1],
-- header() in lib.lua). Such tasks are written without a table per task. A batch whose outputs are
-- not all new results takes the general way, as if it had come in the long form.
-- Returns {answer, partitions with new QUEUED tasks, counts} where answer is the flat list id,
-- status... and counts the flat list partition, "c1,...,c7" of the session's task counts in each
-- partition of the batch after it (for pcount.lua); a repeated request returns the first answer and
-- empty lists. A dependency cycle is
-- refused (lib_graph.lua).
-- Errors (nothing written): NOT_FOUND, FAILED_PRECONDITION, ALREADY_EXISTS, RESOURCE_EXHAUSTED.

-- pack_answer keeps an answer (flat list id, status) for a repeated request. The tasks a batch
-- numbers are consecutive: 'N<first>:<statuses>' (a byte a task) stands for them when numbered
-- says the store numbered every task of the batch. Any other answer is kept as JSON.
local function pack_answer(answer, numbered)
  if not numbered then return cjson.encode(answer) end
  local sts = {}
  for j = 2, #answer, 2 do sts[#sts + 1] = answer[j] end
  return 'N' .. answer[1] .. ':' .. table.concat(sts)
end

local function unpack_answer(v)
  local first, sts = string.match(v, '^N(%d+):(%d+)$')
  if not first then return cjson.decode(v) end
  first = tonumber(first)
  local answer = {}
  for j = 1, #sts do
    answer[#answer + 1] = string.format('%d', first + j - 1)
    answer[#answer + 1] = tonumber(string.sub(sts, j, j))
  end
  return answer
end

local SHORT_VALUES = 7 -- tasks.go shortValues

-- short_at is where task j of a short batch starts in ARGV (its partition).
local function short_at(j) return 5 + SHORT_VALUES * (j - 1) end

-- short_specs are the specs of a short batch of n tasks, as parse_tasks makes them of a long one.
local function short_specs(n)
  local specs = {}
  for j = 1, n do
    local i = short_at(j)
    specs[j] = { id = '', part = ARGV[i], prio = num(ARGV[i + 1]), maxr = num(ARGV[i + 2]), deps = NOPARTS,
      outs = ARGV[i + 3], outl = split(ARGV[i + 3], ','), body = ARGV[i + 4], payload = ARGV[i + 5] }
  end
  return specs
end

-- new_outputs returns the outputs of each task of a short batch of n tasks when they are all new
-- results, each expected by one task; nil otherwise (the general way checks such a batch).
local function new_outputs(n)
  local outl, rids, seen = {}, {}, {}
  for j = 1, n do
    outl[j] = split(ARGV[short_at(j) + 3], ',')
    for _, rid in ipairs(outl[j]) do
      if seen[rid] then return nil end
      seen[rid] = true
      rids[#rids + 1] = rid
    end
  end
  for i = 1, #rids, 1000 do
    local got = redis.call('HMGET', K(':r'), unpack(rids, i, math.min(i + 999, #rids)))
    for k = 1, #got do
      if got[k] then return nil end
    end
  end
  return outl
end

-- store_short writes the n tasks of a short batch (outl: each one's outputs), numbered from
-- seq + 1, QUEUED at now (the caller's string); returns the answer (id, status per task).
local function store_short(n, outl, seq, now, touched)
  local answer = {}
  local created = '|0||0|' .. now .. '|0|' -- the rest of a new output's record (unrecord)
  local parts = {}
  for j = 1, n do
    local i = short_at(j)
    local part, prio, body, payload = ARGV[i], num(ARGV[i + 1]), ARGV[i + 4], ARGV[i + 5]
    local tid = string.format('%d', seq + j)
    hset_later(':t', tid, ARGV[i + 6])
    if #body > BODY_INLINE then hset_later(':tb', tid, body) end
    if payload ~= '' then hset_later(':pl', tid, payload) end
    for _, rid in ipairs(outl[j]) do
      hset_later(':r', rid, istr(RESULT_CREATED) .. '|' .. tid .. created)
      rpush_later(':rl', rid)
    end
    rpush_later(qsuffix(part, prio), tid)
    rpush_later(':tl', tid)
    count(part, 0, TASK_QUEUED)
    ev_task(tid, TASK_QUEUED, 0)
    touched[part] = true
    parts[part] = true
    answer[#answer + 1] = tid
    answer[#answer + 1] = TASK_QUEUED
  end
  for p, _ in pairs(parts) do redis.call('SADD', K(':parts'), p) end
  return answer
end

local st = session_status()
if st == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
if ARGV[2] ~= '' then
  local cached = redis.call('GET', KEYS[2])
  if cached then return { unpack_answer(cached), {}, {} } end
end
if st ~= SESSION_RUNNING and st ~= SESSION_PAUSED then
  local why = { [SESSION_CLOSED] = 'closed: it runs the tasks it holds but accepts no new ones',
    [SESSION_CANCELLED] = 'cancelled: it accepts no new tasks', [SESSION_PURGED] = 'purged: it accepts no new tasks' }
  return redis.error_reply('FAILED_PRECONDITION session ' .. SID .. ' is ' .. (why[st] or ('in status ' .. st)))
end
-- a short batch whose outputs are all new is written as it is; any other one as a long one
local nshort = string.match(ARGV[4], '^F(%d+)$')
local specs, outl
if nshort then
  nshort = tonumber(nshort)
  outl = new_outputs(nshort)
  if not outl then
    specs = short_specs(nshort)
    nshort = nil
  end
else
  specs = parse_tasks(4)
end
local ntasks = nshort or #specs
-- the tasks the store names (id '') take the session's next numbers (ids.go); the number is saved
-- only once the batch is accepted. A number above seq is free (fresh: check_tasks does not look it
-- up): the task that holds a number is written by the script that saves seq past it, and a failover
-- or a crash that loses a write of seq loses every later write of the session too (one slot,
-- replicated and appended in order).
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local seq0 = seq
if specs then
  for _, s in ipairs(specs) do
    if s.id == '' then
      seq = seq + 1
      s.id = string.format('%d', seq)
      s.fresh = true
    end
  end
  local err = check_tasks(specs, '', 0, {})
  if not err then err = check_cycles(specs) end
  if err then return redis.error_reply(err[1] .. ' ' .. err[2]) end
else
  seq = seq + nshort
end
local maxq = tonumber(ARGV[3])
if maxq > 0 then
  local c = redis.call('HMGET', K(':c'), istr(TASK_PENDING), istr(TASK_QUEUED))
  local held = tonumber(c[1] or '0') + tonumber(c[2] or '0')
  if held + ntasks > maxq then
    return redis.error_reply('RESOURCE_EXHAUSTED session ' .. SID .. ' holds ' .. held .. ' pending or queued tasks; ' ..
      ntasks .. ' more would pass its limit of ' .. maxq .. ': wait for some to run, or submit fewer at once')
  end
end
if seq ~= seq0 then redis.call('HSET', KEYS[1], 'seq', seq) end
local touched = {}
local answer
if specs then answer = store_tasks(specs, ARGV[1], touched) else answer = store_short(nshort, outl, seq0, ARGV[1], touched) end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[2], pack_answer(answer, ntasks > 0 and seq - seq0 == ntasks), 'EX', 86400)
  -- the request ids with an answer kept, by expiry, so that a purge deletes their answers (and the
  -- index drops those that expired on their own)
  local now = tonumber(ARGV[1])
  redis.call('ZREMRANGEBYSCORE', K(':rq'), '-inf', now)
  redis.call('ZADD', K(':rq'), now + 86400000, ARGV[2])
end
local counts, seen = {}, {}
for j = 1, ntasks do
  local part = specs and specs[j].part or ARGV[short_at(j)]
  if not seen[part] then
    seen[part] = true
    counts[#counts + 1] = part
    counts[#counts + 1] = counts_after(part)
  end
end
return { answer, touched_list(touched), counts }
