-- outcomes.lua: record, in order, a batch of steps of leased tasks of one session: starts, progress
-- reports, completions and failures. Each step is checked against its lease on its own and applied
-- whole or not at all; a refused step does not stop the others.
-- KEYS[1] session meta. ARGV[1] now (ms), ARGV[2] retry backoff base (ms), ARGV[3] backoff cap (ms),
-- then the steps, each starting with its code, task id, lease token and time (ms):
--   S tid tok ms after                              start: DISPATCHED -> RUNNING (again: no-op); after:
--                                                   the task whose worker slot it took ('' none): its
--                                                   RUNNING event follows that task's changes here
--   P tid tok ms fraction message                   progress event
--   C tid tok ms started after nout {rid size sha loc data}*nout nnew {rid has size sha loc data}*nnew
--     <subtasks> {tp}*nout                          completion; started: the start (ms) of a task still
--                                                   DISPATCHED, recorded with it (0: none), after as in S;
--                                                   subtasks as in
--                                                   submit.lua (n, 8 per task); tp: each output's
--                                                   producer traceparent ('' none) -> :rtp
--   F tid tok ms kind message retryable end jitter  failure; end is the status when not retried
--                                                   (6 failed, 7 cancelled); jitter in [0,1)
-- Returns {replies, partitions with new QUEUED tasks, delayed} where replies has one entry per step:
-- 'OK', 'RETRIED' (a failure that will be retried) or 'CODE message' (LEASE_LOST, FAILED_PRECONDITION,
-- ALREADY_EXISTS: the step changed nothing), and delayed is a flat list partition, earliest retry ms.
local base, cap = tonumber(ARGV[2]), tonumber(ARGV[3])
local touched = {}
local delayed = {}

local function lost(tid)
  return 'LEASE_LOST the lease on task ' .. ext(tid) .. ' is no longer held (expired, released or the task already finished)'
end

-- run marks leased task t RUNNING (from DISPATCHED) since ms, after task after's changes.
local function run(t, ms, after)
  count(t[H_PARTITION], TASK_DISPATCHED, TASK_RUNNING)
  t[H_STATUS] = TASK_RUNNING; t[H_START_MS] = ms
  tput(t)
  ev_task_after(t.id, TASK_RUNNING, t[H_ATTEMPT], after)
end

local function start(tid, tok, ms, after)
  local t = tget(tid)
  if not leased(t, tok) then return lost(tid) end
  if t[H_STATUS] == TASK_DISPATCHED then run(t, tonumber(ms), after) end
  return 'OK'
end

local function progress(tid, tok, fraction, message)
  local t = tget(tid)
  if not leased(t, tok) then return lost(tid) end
  ev_progress(tid, fraction, message)
  return 'OK'
end

local function fail(tid, tok, ms, ekind, emsg, retryable, endst, jitter)
  local t = tget(tid)
  if not leased(t, tok) then return lost(tid) end
  if retryable and endst == TASK_FAILED and t[H_ATTEMPT] <= t[H_MAX_RETRIES] then
    local due = ms + backoff_ms(t[H_ATTEMPT], base, cap, jitter)
    retry_later(t, ms, due, ekind, emsg)
    if not delayed[t[H_PARTITION]] or due < delayed[t[H_PARTITION]] then delayed[t[H_PARTITION]] = due end
    return 'RETRIED'
  end
  if retryable and endst == TASK_FAILED then emsg = emsg .. ' (no retries left after ' .. t[H_ATTEMPT] .. ' attempts)' end
  end_tasks(tid, endst, ekind, emsg, ms)
  return 'OK'
end

-- A completion is read where it stands in ARGV, without a table per output or new result: its
-- outputs start at ARGV[o1] (5 values each), its new results at ARGV[n1] (6 each) and the outputs'
-- traceparents at ARGV[tp1]. The common completion (one output, nothing new) makes no table at all.
local NONE = {} -- the subtasks of a completion that has none (never written to)

-- written tells whether the completion whose nout outputs start at ARGV[o1] writes result rid;
-- writing is the set of those outputs when there are several.
local function written(rid, writing, nout, o1)
  if writing then return writing[rid] == true end
  return nout == 1 and ARGV[o1] == rid
end

-- ended(ms) is the :te entry of a task completed at ms ("ms||"), made once for the steps of a batch
-- that share their time.
local te_ms, te
local function ended(ms)
  if ms ~= te_ms then te_ms, te = ms, ms .. '||' end
  return te
end

-- complete parses a completion from ARGV[i] on; returns its reply and the index after it. now is
-- the completion's time as the caller wrote it (a string of digits: it is written into records as
-- it is).
local function complete(tid, tok, now, i)
  local started, after = num(ARGV[i]), ARGV[i + 1]
  local nout = num(ARGV[i + 2]); i = i + 3
  local o1 = i
  i = i + 5 * nout
  local nnew = num(ARGV[i]); i = i + 1
  local n1 = i
  i = i + 6 * nnew
  local specs = NONE
  if ARGV[i] == '0' then i = i + 1 else specs, i = parse_tasks(i) end
  local tp1 = i
  i = i + nout
  local t = tget(tid)
  if not leased(t, tok) then return lost(tid), i end
  local mine = split(t[H_OUTPUTS], ',')
  local mineset
  if #mine > 1 then
    mineset = {}
    for _, rid in ipairs(mine) do mineset[rid] = true end
  end
  local writing = nout > 1 and {} or nil
  for j = 0, nout - 1 do
    local rid = ARGV[o1 + 5 * j]
    local expected
    if mineset then expected = mineset[rid] else expected = mine[1] == rid end
    if not expected then
      return 'FAILED_PRECONDITION result ' .. rid .. ' is not an expected output of task ' .. ext(tid), i
    end
    if writing then
      if writing[rid] then return 'FAILED_PRECONDITION output ' .. rid .. ' is written twice', i end
      writing[rid] = true
    end
    local r = rget(rid)
    if not r or r.st ~= RESULT_CREATED or r.owner ~= tid then
      return 'FAILED_PRECONDITION output ' .. rid .. ' of task ' .. ext(tid) .. ' can no longer be written (already written, aborted or handed over)', i
    end
  end
  if nnew > 0 or #specs > 0 then
    local known = {}
    for j = 0, nnew - 1 do
      local id = ARGV[n1 + 6 * j]
      if known[id] or rexists(id) then
        return 'ALREADY_EXISTS result id ' .. id .. ' is taken', i
      end
      known[id] = true
    end
    for j = 0, nout - 1 do known[ARGV[o1 + 5 * j]] = true end
    for _, s in ipairs(specs) do
      for _, rid in ipairs(s.outl) do
        if written(rid, writing, nout, o1) then
          return 'FAILED_PRECONDITION output ' .. rid .. ' is both written by task ' .. ext(tid) .. ' and handed to subtask ' .. ext(s.id), i
        end
        if known[rid] then
          return 'FAILED_PRECONDITION result ' .. rid .. ' is created by the completion and also expected from subtask ' .. ext(s.id), i
        end
      end
    end
    if #specs > 0 then
      local err = check_tasks(specs, tid, 0, known)
      if not err then err = check_cycles(specs) end
      if err then return err[1] .. ' ' .. err[2], i end
    end
  end
  -- every check passed: write
  if started > 0 and t[H_STATUS] == TASK_DISPATCHED then run(t, started, after) end
  for j = 0, nnew - 1 do
    local id = ARGV[n1 + 6 * j]
    rpush_later(':rl', id)
    rput({ id = id, st = RESULT_CREATED, owner = '', size = '0', sha = '', loc = '0', cms = now, ems = '0', reason = '' })
    ev_result(id, RESULT_CREATED, '0')
  end
  if #specs > 0 then store_tasks(specs, now, touched) end
  for j = 0, nnew - 1 do
    local b = n1 + 6 * j
    if ARGV[b + 1] == '1' then complete_result(rget(ARGV[b]), ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], now, touched) end
  end
  for j = 0, nout - 1 do
    local b = o1 + 5 * j
    complete_result(rget(ARGV[b]), ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], now, touched)
    local tp = ARGV[tp1 + j]
    if tp ~= '' then hset_later(':rtp', ARGV[b], tp) end
  end
  unlease(t)
  count(t[H_PARTITION], t[H_STATUS], TASK_COMPLETED)
  t[H_STATUS] = TASK_COMPLETED; t[H_TOKEN] = ''
  tput(t)
  -- a task whose first expected output this completion writes ends when that output does (the
  -- record's end time, tasks.go endsFromOutputs): only other tasks take a :te entry
  if not (mine[1] and written(mine[1], writing, nout, o1)) then hset_later(':te', tid, ended(now)) end
  ev_task(tid, TASK_COMPLETED, t[H_ATTEMPT])
  for _, rid in ipairs(mine) do
    local r = not written(rid, writing, nout, o1) and rget(rid)
    if r and r.st == RESULT_CREATED and r.owner == tid then
      local reason = 'task ' .. ext(tid) .. ' completed without writing its expected output ' .. rid
      for _, w in ipairs(abort_result(r, reason, now)) do
        end_tasks(w, TASK_FAILED, ERROR_DEPENDENCY_FAILED, 'dependency ' .. rid .. ' was aborted (' .. reason .. ')', now)
      end
    end
  end
  return 'OK', i
end

-- prefetch reads the steps' task headers, their outputs' records and whether those have waiters
-- ahead, one call each for the whole batch (a call from a script costs more than the read).
local function prefetch()
  local tids, rids = {}, {}
  local i, n = 4, #ARGV
  while i <= n do
    local code = ARGV[i]
    tids[#tids + 1] = ARGV[i + 1]
    i = i + 4
    if code == 'S' then
      i = i + 1
    elseif code == 'P' then
      i = i + 2
    elseif code == 'F' then
      i = i + 5
    elseif code == 'C' then
      local nout = num(ARGV[i + 2]); i = i + 3
      if not nout then break end
      for _ = 1, nout do rids[#rids + 1] = ARGV[i]; i = i + 5 end
      local nnew = num(ARGV[i])
      if not nnew then break end
      i = i + 1 + 6 * nnew
      local nsub = num(ARGV[i])
      if not nsub then break end
      i = i + 1 + 8 * nsub + nout
    else
      break -- the loop below refuses the batch
    end
  end
  tprefetch(tids)
  rprefetch(rids)
  prefetch_waiters(rids)
end

prefetch()
local replies = {}
local i = 4
while i <= #ARGV do
  local code, tid, tok, ms = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  local reply
  if code == 'S' then
    reply = start(tid, tok, ms, ARGV[i])
    i = i + 1
  elseif code == 'P' then
    reply = progress(tid, tok, ARGV[i], ARGV[i + 1])
    i = i + 2
  elseif code == 'C' then
    reply, i = complete(tid, tok, ms, i)
  elseif code == 'F' then
    reply = fail(tid, tok, tonumber(ms), num(ARGV[i]), ARGV[i + 1], ARGV[i + 2] == '1', num(ARGV[i + 3]), tonumber(ARGV[i + 4]))
    i = i + 5
  else
    return redis.error_reply('INVALID_ARGUMENT unknown step code ' .. tostring(code))
  end
  replies[#replies + 1] = reply
end
local dl = {}
for p, due in pairs(delayed) do dl[#dl + 1] = p; dl[#dl + 1] = due end
return { replies, touched_list(touched), dl }
