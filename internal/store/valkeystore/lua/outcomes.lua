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
  if t[H_STATUS] == TASK_DISPATCHED then run(t, ms, after) end
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

-- complete parses a completion from ARGV[i] on; returns its reply and the index after it.
local function complete(tid, tok, now, i)
  local started, after = tonumber(ARGV[i]), ARGV[i + 1]; i = i + 2
  local nout = tonumber(ARGV[i]); i = i + 1
  local outs = {}
  for j = 1, nout do
    outs[j] = { rid = ARGV[i], size = ARGV[i + 1], sha = ARGV[i + 2], loc = ARGV[i + 3], data = ARGV[i + 4] }
    i = i + 5
  end
  local nnew = tonumber(ARGV[i]); i = i + 1
  local news = {}
  for j = 1, nnew do
    news[j] = { id = ARGV[i], has = ARGV[i + 1], size = ARGV[i + 2], sha = ARGV[i + 3], loc = ARGV[i + 4], data = ARGV[i + 5] }
    i = i + 6
  end
  local specs
  specs, i = parse_tasks(i)
  local tps = {}
  for j = 1, nout do tps[j] = ARGV[i]; i = i + 1 end
  local t = tget(tid)
  if not leased(t, tok) then return lost(tid), i end
  local mine = {}
  for _, rid in ipairs(split(t[H_OUTPUTS], ',')) do mine[rid] = true end
  local writing = {}
  for _, o in ipairs(outs) do
    if not mine[o.rid] then
      return 'FAILED_PRECONDITION result ' .. o.rid .. ' is not an expected output of task ' .. ext(tid), i
    end
    if writing[o.rid] then return 'FAILED_PRECONDITION output ' .. o.rid .. ' is written twice', i end
    local r = rget(o.rid)
    if not r or r.st ~= RESULT_CREATED or r.owner ~= tid then
      return 'FAILED_PRECONDITION output ' .. o.rid .. ' of task ' .. ext(tid) .. ' can no longer be written (already written, aborted or handed over)', i
    end
    writing[o.rid] = true
  end
  local known = {}
  for _, r in ipairs(news) do
    if known[r.id] or rexists(r.id) then
      return 'ALREADY_EXISTS result id ' .. r.id .. ' is taken', i
    end
    known[r.id] = true
  end
  for rid, _ in pairs(writing) do known[rid] = true end
  for _, s in ipairs(specs) do
    for _, rid in ipairs(s.outl) do
      if writing[rid] then
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
  -- every check passed: write
  if started > 0 and t[H_STATUS] == TASK_DISPATCHED then run(t, started, after) end
  for _, r in ipairs(news) do
    local rr = { id = r.id, st = RESULT_CREATED, owner = '', size = '0', sha = '', loc = '0', cms = now, ems = '0', reason = '' }
    rpush_later(':rl', r.id)
    rput(rr)
    ev_result(r.id, RESULT_CREATED, 0)
  end
  if #specs > 0 then store_tasks(specs, now, touched) end
  for _, r in ipairs(news) do
    if r.has == '1' then complete_result(rget(r.id), r.size, r.sha, r.loc, r.data, now, touched) end
  end
  for j, o in ipairs(outs) do
    complete_result(rget(o.rid), o.size, o.sha, o.loc, o.data, now, touched)
    if tps[j] ~= '' then hset_later(':rtp', o.rid, tps[j]) end
  end
  unlease(t)
  count(t[H_PARTITION], t[H_STATUS], TASK_COMPLETED)
  t[H_STATUS] = TASK_COMPLETED; t[H_TOKEN] = ''
  tput(t)
  hset_later(':te', tid, now .. '||')
  ev_task(tid, TASK_COMPLETED, t[H_ATTEMPT])
  for rid, _ in pairs(mine) do
    local r = not writing[rid] and rget(rid)
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
      local nout = tonumber(ARGV[i + 2]); i = i + 3
      if not nout then break end
      for _ = 1, nout do rids[#rids + 1] = ARGV[i]; i = i + 5 end
      local nnew = tonumber(ARGV[i])
      if not nnew then break end
      i = i + 1 + 6 * nnew
      local nsub = tonumber(ARGV[i])
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
  local code, tid, tok, ms = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
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
    reply = fail(tid, tok, ms, tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2] == '1', tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4]))
    i = i + 5
  else
    return redis.error_reply('INVALID_ARGUMENT unknown step code ' .. tostring(code))
  end
  replies[#replies + 1] = reply
end
local dl = {}
for p, due in pairs(delayed) do dl[#dl + 1] = p; dl[#dl + 1] = due end
return { replies, touched_list(touched), dl }
