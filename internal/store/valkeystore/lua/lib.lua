-- lib.lua: shared helpers prepended to every session script (not a script by itself). scripts.go wraps
-- each script's body in a function, calls begin() before it and flush() after it, so counter changes
-- and task events made by a script are written once per script run, not once per task. The same
-- source also makes the function library of the hot scripts (scripts.go), whose top-level locals live
-- from one call to the next: every per-run value is set by begin(), never only where it is declared.
-- The calling script's KEYS[1] is the session meta key "{<prefix>s:<id>}:m"; every other key of the
-- session is that tag plus a suffix (see keys.go, the one place that documents the layout):
--   :m meta hash  :c counts  :pc:<p> counts per partition  :parts partitions used
--   :t task headers (mutable)  :tb task bodies (immutable)  :pl payloads  :at earlier attempts
--   :tl task order  :r results  :rd result data  :rl result order  :w:<rid> waiters
--   :wl results with waiters  :ro results whose data is an object (both for the purge)
--   :q:<p>:<prio> ready queues  :d:<p> retry-delayed  :l:<p> leases  :ev events  :req:<id> idempotent answers
--   :te task ends (ms|error kind|message; outcomes.lua)  :rq request ids with an answer kept (for the purge)
-- Task header: twelve MessagePack values one after the other: status, attempt, token, partition,
-- priority, max retries, waiting-on count, queue ms, outputs (csv), agent, dispatch ms, start ms,
-- then the body when it is small (H_BODY); no user string can break it.
-- Task body: the protobuf chorus.v1.Task as submitted, written once (in :tb when it is not small).
-- Result record: "st|owner|size|sha|loc|cms|ems|reason".
-- TAG is the session's key tag, KEYS[1] without ':m'; SID is the session id as the caller gave it:
-- the tag is '{' .. prefix .. 's:' .. id .. '}' and PREFIXLEN (the key prefix's length) is set by
-- scripts.go before this file, with KEYS and ARGV. begin() sets both.
local TAG, SID
local function K(s) return TAG .. s end
local EVCAP = 100000
-- ext(id) is a task id as users see it: the tasks the store numbers are stored as their number and
-- shown as '<session id>.<number>' (ids.go).
local function ext(id)
  if string.find(id, '^%d+$') then return SID .. '.' .. id end
  return id
end

-- Enum values shared with Go: constants_test.go ties each to its chorus.v1 enum.
local TASK_PENDING = 1 -- TaskStatus TASK_STATUS_PENDING
local TASK_QUEUED = 2 -- TaskStatus TASK_STATUS_QUEUED
local TASK_DISPATCHED = 3 -- TaskStatus TASK_STATUS_DISPATCHED
local TASK_RUNNING = 4 -- TaskStatus TASK_STATUS_RUNNING
local TASK_COMPLETED = 5 -- TaskStatus TASK_STATUS_COMPLETED
local TASK_FAILED = 6 -- TaskStatus TASK_STATUS_FAILED
local TASK_CANCELLED = 7 -- TaskStatus TASK_STATUS_CANCELLED
local RESULT_CREATED = 1 -- ResultStatus RESULT_STATUS_CREATED
local RESULT_COMPLETED = 2 -- ResultStatus RESULT_STATUS_COMPLETED
local RESULT_ABORTED = 3 -- ResultStatus RESULT_STATUS_ABORTED
local SESSION_RUNNING = 1 -- SessionStatus SESSION_STATUS_RUNNING
local SESSION_PAUSED = 2 -- SessionStatus SESSION_STATUS_PAUSED
local SESSION_CLOSED = 3 -- SessionStatus SESSION_STATUS_CLOSED
local SESSION_CANCELLED = 4 -- SessionStatus SESSION_STATUS_CANCELLED
local SESSION_PURGED = 5 -- SessionStatus SESSION_STATUS_PURGED
local ERROR_LEASE_EXPIRED = 4 -- ErrorKind ERROR_KIND_LEASE_EXPIRED
local ERROR_DEPENDENCY_FAILED = 5 -- ErrorKind ERROR_KIND_DEPENDENCY_FAILED
local ERROR_CANCELLED = 8 -- ErrorKind ERROR_KIND_CANCELLED
local LOCATION_INLINE = 1 -- ResultLocation RESULT_LOCATION_INLINE
local LOCATION_OBJECT = 2 -- ResultLocation RESULT_LOCATION_OBJECT
local EVENT_TASK_STATUS = 1 -- EventKind EVENT_KIND_TASK_STATUS
local EVENT_RESULT_STATUS = 2 -- EventKind EVENT_KIND_RESULT_STATUS
local EVENT_SESSION_STATUS = 3 -- EventKind EVENT_KIND_SESSION_STATUS
local EVENT_TASK_PROGRESS = 4 -- EventKind EVENT_KIND_TASK_PROGRESS

-- istr(n) is integer n as a string: Lua's own conversion (%.14g) costs ten times a table read, and
-- a function library keeps the strings of small numbers (attempts, positions) from call to call.
local ISTR = {}
local function istr(n)
  local v = ISTR[n]
  if v then return v end
  v = string.format('%d', n)
  if n >= 0 and n < 4096 then ISTR[n] = v end
  return v
end
-- num(s) is tonumber(s), with the small counts and codes that scripts read most taken from a table.
local NUM = { ['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4, ['5'] = 5, ['6'] = 6, ['7'] = 7, ['8'] = 8, ['9'] = 9 }
local function num(s) return NUM[s] or tonumber(s) end

-- split(s, sep) is the list of s's parts between seps; an empty s has none. The list of an empty s
-- is one shared table: callers read what split returns and never write to it.
local NOPARTS = {}
local function split(s, sep)
  if s == nil or s == '' then return NOPARTS end
  if not string.find(s, sep, 1, true) then return { s } end
  local out = {}
  local start = 1
  while true do
    local i = string.find(s, sep, start, true)
    if not i then out[#out + 1] = string.sub(s, start); break end
    out[#out + 1] = string.sub(s, start, i - 1)
    start = i + 1
  end
  return out
end

-- A task in a script is the array of its header fields (indexes below) plus its id in t.id.
local H_STATUS, H_ATTEMPT, H_TOKEN, H_PARTITION, H_PRIORITY, H_MAX_RETRIES = 1, 2, 3, 4, 5, 6
local H_WAITING, H_QUEUE_MS, H_OUTPUTS, H_AGENT, H_DISPATCH_MS, H_START_MS = 7, 8, 9, 10, 11, 12
-- A body of at most BODY_INLINE bytes is a thirteenth header value instead of an entry of :tb: a
-- hash entry of its own costs more than its bytes (field, entry, bucket: ~70 bytes), and copying a
-- small body with each header write costs little.
local H_BODY, BODY_INLINE = 13, 64

-- header packs the twelve fields (and a small body) one after the other (codec.go reads them back).
local function header(t)
  if t[H_BODY] then
    return cmsgpack.pack(t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13])
  end
  return cmsgpack.pack(t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12])
end

local function unheader(tid, v)
  local t = { cmsgpack.unpack(v) }
  t.id = tid
  return t
end

-- Task headers and result records read by a script are cached for the run, and those it changes are
-- written by flush() in one HSET per hash: a task started and completed in one batch costs one read
-- and one write. Everything reads and writes them through tget/tput/texists and rget/rput/rexists.

-- read_missing calls read(want, i, j) for the ids of ids that known has no entry for (want), in
-- chunks want[i..j] of at most 1000 (Lua's stack bounds unpack): one call per chunk, not per id. A
-- read that returns false stops it.
local function read_missing(ids, known, read)
  local want = {}
  for _, id in ipairs(ids) do
    if known[id] == nil then want[#want + 1] = id end
  end
  for i = 1, #want, 1000 do
    if read(want, i, math.min(i + 999, #want)) == false then return end
  end
end

-- records returns get, put and exists for the records of hash K(suffix), prefetch, reset (a new run:
-- nothing read, nothing to write) and pending (the cache and the dirty set, for flush()): get reads a
-- record once per run (decode(id, raw) builds it), put marks it for flush().
local function records(suffix, decode)
  -- cache[id] is false for a record read and found missing, so a second look costs no call.
  local cache, dirty
  local function get(id)
    local x = cache[id]
    if x ~= nil then return x or nil end
    local v = redis.call('HGET', K(suffix), id)
    if not v then cache[id] = false; return nil end
    x = decode(id, v)
    cache[id] = x
    return x
  end
  local function put(x)
    cache[x.id] = x
    dirty[x.id] = true
  end
  local function exists(id)
    local x = cache[id]
    if x ~= nil then return x ~= false end
    return redis.call('HEXISTS', K(suffix), id) == 1
  end
  -- prefetch reads the records of ids not read yet with one HMGET per 1000: a call from a script
  -- costs more than the read itself, so a batch reads its records at once.
  local function prefetch(ids)
    read_missing(ids, cache, function(want, i, j)
      local got = redis.call('HMGET', K(suffix), unpack(want, i, j))
      for k = i, j do
        local id, v = want[k], got[k - i + 1]
        if cache[id] == nil then cache[id] = v and decode(id, v) or false end
      end
    end)
  end
  local function reset() cache, dirty = {}, {} end
  local function pending() return cache, dirty end
  return get, put, exists, prefetch, reset, pending
end

local tget, tput, texists, tprefetch, treset, tpending = records(':t', unheader)

-- tprefetch_args reads at once the headers of the tasks whose ids stand in ARGV from index first,
-- every step-th (a script that goes through a list of tasks makes one call, not one per task).
local function tprefetch_args(first, step)
  local tids = {}
  for j = first, #ARGV, step do tids[#tids + 1] = ARGV[j] end
  tprefetch(tids)
end

local function leased(t, tok) return t and (t[H_STATUS] == TASK_DISPATCHED or t[H_STATUS] == TASK_RUNNING) and t[H_TOKEN] == tok end

-- unrecord reads a result record "st|owner|size|sha|loc|cms|ems|reason" (the reason may hold '|').
-- One string.match reads the eight fields (a Lua loop of finds and subs cost three times as much).
local function unrecord(rid, v)
  local st, owner, size, sha, loc, cms, ems, reason =
    string.match(v, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|?(.*)$')
  return { st = num(st), owner = owner, size = size, sha = sha, loc = loc, cms = cms, ems = ems,
    reason = reason, id = rid }
end

local rget, rput, rexists, rprefetch, rreset, rpending = records(':r', unrecord)

-- Write-only hash fields (:te, :rd) and list appends (:rl, :tl) are also written by flush(), and
-- so are the removals of leases (UNLEASE: partition -> task ids), one ZREM per partition.
local HLATER, LLATER, UNLEASE
local function hset_later(suffix, field, value)
  local h = HLATER[suffix]
  if not h then h = {}; HLATER[suffix] = h end
  h[#h + 1] = field
  h[#h + 1] = value
end
local function rpush_later(suffix, value)
  local l = LLATER[suffix]
  if not l then l = {}; LLATER[suffix] = l end
  l[#l + 1] = value
end

-- Events. Field names: kind (EventKind), status, tasks / results (comma-separated ids), attempts and
-- sizes (comma-separated, same order), error_kind, error, retryable, reason, fraction, message.
-- Task and result status changes without an error are grouped per status and written by flush(), one
-- stream entry per group: a task's own changes keep their order (a change joins a group only after
-- the group of the task's previous change), and so does a RUNNING after the outcome of the task
-- whose worker slot it took (ev_task_after).
local function event(...)
  redis.call('XADD', K(':ev'), 'MAXLEN', '~', EVCAP, '*', ...)
end
local EVG     -- groups: {kind, status, ids, extra, how many}
local NEVG    -- #EVG
local EVLAST  -- id -> index of the group of its last change
-- (grouped runs for every change of a batch: it keeps counts rather than take the length of a list)
local function grouped(kind, id, st, extra, after)
  local from = (EVLAST[id] or 0) + 1
  if after and after ~= '' then
    local a = (EVLAST[after] or 0) + 1
    if a > from then from = a end
  end
  local x
  for gi = NEVG, from, -1 do
    local y = EVG[gi]
    if y[1] == kind and y[2] == st then x = y; from = gi; break end
  end
  if not x then
    NEVG = NEVG + 1
    x = { kind, st, {}, {}, 0 }
    EVG[NEVG] = x
    from = NEVG
  end
  local n = x[5] + 1
  x[5] = n
  x[3][n] = id
  x[4][n] = extra
  EVLAST[id] = from
end
local function ev_task(tid, st, att) grouped(EVENT_TASK_STATUS, tid, st, istr(att)) end
-- ev_task_after is ev_task for a change that must follow task after's changes so far (a task's
-- RUNNING after the outcome of the task whose worker slot it took).
local function ev_task_after(tid, st, att, after) grouped(EVENT_TASK_STATUS, tid, st, istr(att), after) end
local function ev_result(rid, st, size) grouped(EVENT_RESULT_STATUS, rid, st, size) end
local function flush_events()
  for _, x in ipairs(EVG) do
    if x[1] == EVENT_TASK_STATUS then
      event('kind', x[1], 'status', x[2], 'tasks', table.concat(x[3], ','), 'attempts', table.concat(x[4], ','))
    else
      event('kind', x[1], 'status', x[2], 'results', table.concat(x[3], ','), 'sizes', table.concat(x[4], ','))
    end
  end
  EVG, NEVG, EVLAST = {}, 0, {}
end
-- ev_task_error writes at once (after the grouped changes so far) a task change that carries an error.
local function ev_task_error(tid, st, att, ekind, emsg, retryable)
  flush_events()
  event('kind', EVENT_TASK_STATUS, 'status', st, 'tasks', tid, 'attempts', att, 'error_kind', ekind, 'error', emsg,
    'retryable', retryable and '1' or '0')
end
local function ev_result_aborted(rid, reason)
  flush_events()
  event('kind', EVENT_RESULT_STATUS, 'status', RESULT_ABORTED, 'results', rid, 'sizes', '0', 'reason', reason)
end
local function ev_session(st)
  flush_events()
  event('kind', EVENT_SESSION_STATUS, 'status', st)
end
local function ev_progress(tid, fraction, message)
  flush_events()
  event('kind', EVENT_TASK_PROGRESS, 'tasks', tid, 'fraction', fraction, 'message', message)
end

-- Status counters: changes are summed per (partition, status) and written by flush().
local CNT
local function count(part, from, to)
  local c = CNT[part]
  if not c then c = {}; CNT[part] = c end
  if from ~= 0 then c[from] = (c[from] or 0) - 1 end
  if to ~= 0 then c[to] = (c[to] or 0) + 1 end
end
local function flush_counts()
  local total = {}
  for part, c in pairs(CNT) do
    for st, d in pairs(c) do
      if d ~= 0 then
        redis.call('HINCRBY', K(':pc:' .. part), st, d)
        total[st] = (total[st] or 0) + d
      end
    end
  end
  for st, d in pairs(total) do
    if d ~= 0 then redis.call('HINCRBY', K(':c'), st, d) end
  end
  CNT = {}
end

-- counts_after is the session's task counts in partition part as this run leaves them (written
-- ones plus the deltas flush() will write): "c1,...,c7", as pcount.lua takes them.
local function counts_after(part)
  local c = redis.call('HMGET', K(':pc:' .. part), '1', '2', '3', '4', '5', '6', '7')
  local d = CNT[part] or {}
  for st = 1, 7 do c[st] = tostring(tonumber(c[st] or '0') + (d[st] or 0)) end
  return table.concat(c, ',')
end

-- call_chunked runs redis.call(cmd, key, args...) in chunks of at most 2000 arguments (Lua's stack
-- bounds unpack); chunks keep field/value pairs together.
local function call_chunked(cmd, key, args)
  local n = #args
  local i = 1
  while i <= n do
    local j = math.min(i + 1999, n)
    redis.call(cmd, key, unpack(args, i, j))
    i = j + 1
  end
end

local function flush_unleases()
  for part, ids in pairs(UNLEASE) do call_chunked('ZREM', K(':l:' .. part), ids) end
  UNLEASE = {}
end

local function flush_records()
  local hs = {}
  local tcache, tdirty = tpending()
  for tid, _ in pairs(tdirty) do
    hs[#hs + 1] = tid
    hs[#hs + 1] = header(tcache[tid])
  end
  if #hs > 0 then call_chunked('HSET', K(':t'), hs) end
  hs = {}
  local rcache, rdirty = rpending()
  for rid, _ in pairs(rdirty) do
    local r = rcache[rid]
    hs[#hs + 1] = rid
    hs[#hs + 1] = istr(r.st) .. '|' .. r.owner .. '|' .. r.size .. '|' .. r.sha .. '|' .. r.loc .. '|' .. r.cms .. '|' .. r.ems .. '|' .. r.reason
  end
  if #hs > 0 then call_chunked('HSET', K(':r'), hs) end
  for suffix, h in pairs(HLATER) do call_chunked('HSET', K(suffix), h) end
  for suffix, l in pairs(LLATER) do call_chunked('RPUSH', K(suffix), l) end
  flush_unleases()
  for k in pairs(tdirty) do tdirty[k] = nil end
  for k in pairs(rdirty) do rdirty[k] = nil end
  HLATER, LLATER = {}, {}
end

-- flush writes what the script deferred and grouped; scripts.go calls it after every script body.
local function flush()
  flush_records()
  flush_counts()
  flush_events()
end

local function finished(st) return st >= TASK_COMPLETED end

-- Ready queues: one list of task ids per partition and priority (:q:<p>:<priority>, oldest first);
-- a claim takes the highest priority first. A list entry costs a fifth of a sorted-set entry. The
-- entry of a task cancelled or failed while queued stays in its list and is skipped when popped
-- (removing it would scan the list): only a QUEUED task's entry is live, and a task that left
-- QUEUED that way is finished, so it is never queued again.
local PRIORITY_MIN, PRIORITY_MAX = 0, 9 -- validate.MinPriority, validate.MaxPriority
-- qsuffix(part, prio) is the key suffix of a queue (':q:<part>:<prio>'), made once per run and
-- queue rather than once per task (QSUF, reset by begin()).
local QSUF
local function qsuffix(part, prio)
  local p = QSUF[part]
  if not p then p = {}; QSUF[part] = p end
  local v = p[prio]
  if not v then v = ':q:' .. part .. ':' .. istr(prio); p[prio] = v end
  return v
end

local function qkey(part, prio) return K(qsuffix(part, prio)) end
-- queue_keys lists a partition's queues, highest priority first.
local function queue_keys(part)
  local ks = {}
  for prio = PRIORITY_MAX, PRIORITY_MIN, -1 do ks[#ks + 1] = qkey(part, prio) end
  return ks
end

-- pop_queues pops up to n entries of a partition's queues, highest priority first, and tells whether
-- it found them all empty (drained). One LMPOP takes entries from the first queue that has any: a
-- claim of tasks of one priority costs one or two calls, not one per priority. A Valkey user whose
-- ACL predates LMPOP (docs/security.md) pops each queue in turn.
local function pop_queues(part, n)
  local ks = queue_keys(part)
  local popped = {}
  local from = 1
  while #popped < n and from <= #ks do
    local args = { #ks - from + 1 }
    for j = from, #ks do args[#args + 1] = ks[j] end
    args[#args + 1] = 'LEFT'; args[#args + 1] = 'COUNT'; args[#args + 1] = n - #popped
    local got = redis.pcall('LMPOP', unpack(args))
    if type(got) == 'table' and got.err then
      for j = from, #ks do
        local want = n - #popped
        if want <= 0 then return popped, false end
        local l = redis.call('LPOP', ks[j], want)
        if l then
          for _, tid in ipairs(l) do popped[#popped + 1] = tid end
        end
      end
      return popped, #popped < n
    end
    if not got then return popped, true end
    for _, tid in ipairs(got[2]) do popped[#popped + 1] = tid end
    -- the queue it popped is empty now unless it held more than was asked: go on after it
    for j = from, #ks do
      if ks[j] == got[1] then from = j + 1; break end
    end
  end
  return popped, #popped < n
end

-- queue_ready is how many of a partition's queues hold entries (0: nothing to claim).
local function queue_ready(part) return redis.call('EXISTS', unpack(queue_keys(part))) end

-- enqueue makes task t QUEUED now (the caller saves it); its entry is appended by flush().
local function enqueue(t, now, touched)
  count(t[H_PARTITION], t[H_STATUS], TASK_QUEUED)
  t[H_STATUS] = TASK_QUEUED; t[H_TOKEN] = ''; t[H_QUEUE_MS] = tonumber(now)
  rpush_later(qsuffix(t[H_PARTITION], t[H_PRIORITY]), t.id)
  touched[t[H_PARTITION]] = true
end

-- promote_due queues the retry-delayed tasks of a partition that are due (at the back of their
-- queue, at once: claim.lua pops after it).
local function promote_due(part, now)
  local dk = K(':d:' .. part)
  for _, tid in ipairs(redis.call('ZRANGEBYSCORE', dk, '-inf', now)) do
    local t = tget(tid)
    if t and t[H_STATUS] == TASK_QUEUED then redis.call('RPUSH', qkey(part, t[H_PRIORITY]), tid) end
    redis.call('ZREM', dk, tid)
  end
end

local function next_due(part)
  local d = redis.call('ZRANGE', K(':d:' .. part), 0, 0, 'WITHSCORES')
  if #d == 0 then return -1 end
  return tonumber(d[2])
end

-- backoff_ms is the delay before retry number att (1 for the first retry): base·2^(att-1), capped,
-- then jittered into [d/2, d] by rnd in [0,1).
local function backoff_ms(att, base, cap, rnd)
  local d = base * (2 ^ (att - 1))
  if d > cap then d = cap end
  return math.floor(d / 2 + d / 2 * rnd)
end

-- archive_attempt moves the current attempt of t (kept in its header) to :at, ended with an error,
-- before the task is retried.
local function archive_attempt(t, now, ekind, emsg, retryable)
  if t[H_DISPATCH_MS] == 0 then return end
  local raw = redis.call('HGET', K(':at'), t.id)
  local list = raw and cjson.decode(raw) or {}
  list[#list + 1] = { n = t[H_ATTEMPT], g = t[H_AGENT], d = t[H_DISPATCH_MS], s = t[H_START_MS], e = tonumber(now), k = tonumber(ekind), m = emsg,
    r = retryable }
  redis.call('HSET', K(':at'), t.id, cjson.encode(list))
  t[H_DISPATCH_MS] = 0; t[H_START_MS] = 0
end

-- unlease drops t's lease; flush() writes the removal (flush_unleases() before reading :l:<p>).
local function unlease(t)
  local l = UNLEASE[t[H_PARTITION]]
  if not l then l = {}; UNLEASE[t[H_PARTITION]] = l end
  l[#l + 1] = t.id
end

-- retry_later requeues a leased task after a backoff: its attempt ends with the error.
local function retry_later(t, now, due, ekind, emsg)
  archive_attempt(t, now, ekind, emsg, true)
  unlease(t)
  count(t[H_PARTITION], t[H_STATUS], TASK_QUEUED)
  t[H_STATUS] = TASK_QUEUED; t[H_TOKEN] = ''; t[H_QUEUE_MS] = tonumber(now)
  tput(t)
  redis.call('ZADD', K(':d:' .. t[H_PARTITION]), due, t.id)
  ev_task_error(t.id, TASK_QUEUED, t[H_ATTEMPT], ekind, emsg, true)
end

-- hand_back returns a leased task to its queue as if it had never been leased (no attempt counted).
local function hand_back(t, touched)
  unlease(t)
  count(t[H_PARTITION], t[H_STATUS], TASK_QUEUED)
  t[H_STATUS] = TASK_QUEUED; t[H_TOKEN] = ''; t[H_ATTEMPT] = t[H_ATTEMPT] - 1
  t[H_AGENT] = ''; t[H_DISPATCH_MS] = 0; t[H_START_MS] = 0
  redis.call('LPUSH', qkey(t[H_PARTITION], t[H_PRIORITY]), t.id) -- first again: it was taken from the front
  tput(t)
  touched[t[H_PARTITION]] = true
  ev_task(t.id, TASK_QUEUED, t[H_ATTEMPT])
end

-- HASW[rid] is whether result rid has a waiter list, when known in this run (nil: not known). :wl
-- holds exactly the results with a waiter list (both are written together), so one SMISMEMBER
-- tells a batch which of its results to read waiters for.
local HASW
local function prefetch_waiters(rids)
  read_missing(rids, HASW, function(want, i, j)
    -- a Valkey user whose ACL predates SMISMEMBER (docs/security.md) reads each waiter list instead
    local got = redis.pcall('SMISMEMBER', K(':wl'), unpack(want, i, j))
    if type(got) ~= 'table' or got.err then return false end
    for k = i, j do HASW[want[k]] = got[k - i + 1] == 1 end
  end)
end

-- complete_result marks result rid COMPLETED and releases its waiters (each exactly once: the waiter
-- list is deleted here and a result completes once).
local function complete_result(r, size, sha, loc, data, now, touched)
  r.st = RESULT_COMPLETED; r.size = size; r.sha = sha; r.loc = loc; r.ems = now
  rput(r)
  local loc = num(r.loc)
  if data ~= '' or loc ~= LOCATION_INLINE then hset_later(':rd', r.id, data) end
  if loc == LOCATION_OBJECT then redis.call('SADD', K(':ro'), r.id) end -- an object: the purge deletes it
  ev_result(r.id, RESULT_COMPLETED, size)
  if HASW[r.id] == false then return end
  local wk = K(':w:' .. r.id)
  local ws = redis.call('LRANGE', wk, 0, -1)
  if #ws == 0 then return end
  redis.call('DEL', wk)
  redis.call('SREM', K(':wl'), r.id)
  HASW[r.id] = false
  for _, tid in ipairs(ws) do
    local t = tget(tid)
    if t and t[H_STATUS] == TASK_PENDING then
      t[H_WAITING] = t[H_WAITING] - 1
      if t[H_WAITING] <= 0 then
        t[H_WAITING] = 0
        enqueue(t, now, touched)
        ev_task(tid, TASK_QUEUED, t[H_ATTEMPT])
      end
      tput(t)
    end
  end
end

-- abort_result marks result r ABORTED with reason and returns the tasks that waited on it (their
-- waiter list is deleted: each is ended once, by the caller).
local function abort_result(r, reason, now)
  r.st = RESULT_ABORTED; r.ems = now; r.reason = reason
  rput(r)
  ev_result_aborted(r.id, reason)
  local wk = K(':w:' .. r.id)
  local ws = redis.call('LRANGE', wk, 0, -1)
  if #ws > 0 then
    redis.call('DEL', wk)
    redis.call('SREM', K(':wl'), r.id)
    HASW[r.id] = false
  end
  return ws
end

-- end_tasks ends task tid with status st (6 failed, 7 cancelled) and error (ekind, emsg), aborts its
-- unwritten outputs and ends every task waiting on them, transitively. Returns how many tasks ended.
local function end_tasks(tid, st, ekind, emsg, now)
  local n = 0
  local stack = { { tid, ekind, emsg } }
  while #stack > 0 do
    local top = table.remove(stack)
    local t = tget(top[1])
    if t and not finished(t[H_STATUS]) then
      if t[H_STATUS] == TASK_QUEUED then
        -- its queue entry, if any, is skipped when popped (see queue_keys)
        redis.call('ZREM', K(':d:' .. t[H_PARTITION]), t.id)
      elseif t[H_STATUS] == TASK_DISPATCHED or t[H_STATUS] == TASK_RUNNING then
        unlease(t)
      end
      count(t[H_PARTITION], t[H_STATUS], st)
      t[H_STATUS] = st; t[H_TOKEN] = ''
      tput(t)
      hset_later(':te', t.id, now .. '|' .. top[2] .. '|' .. top[3])
      ev_task_error(t.id, st, t[H_ATTEMPT], top[2], top[3], false)
      n = n + 1
      local reason = 'task ' .. ext(t.id) .. ' ended ' .. (st == TASK_CANCELLED and 'cancelled' or 'failed') .. ': ' .. top[3]
      for _, rid in ipairs(split(t[H_OUTPUTS], ',')) do
        local r = rget(rid)
        if r and r.st == RESULT_CREATED and r.owner == t.id then
          for _, w in ipairs(abort_result(r, reason, now)) do
            stack[#stack + 1] = { w, st == TASK_CANCELLED and ERROR_CANCELLED or ERROR_DEPENDENCY_FAILED,
              'dependency ' .. rid .. ' was aborted (' .. reason .. ')' }
          end
        end
      end
    end
  end
  return n
end

-- take_back_running ends a RUNNING task's attempt as LEASE_EXPIRED (retryable) with reason and
-- queues it again at once while retries remain, else fails it (an agent restarting or draining past
-- its deadline gives its running tasks back).
local function take_back_running(t, now, reason, touched)
  if t[H_ATTEMPT] <= t[H_MAX_RETRIES] then
    unlease(t)
    archive_attempt(t, now, ERROR_LEASE_EXPIRED, reason, true)
    enqueue(t, now, touched)
    tput(t)
    ev_task_error(t.id, TASK_QUEUED, t[H_ATTEMPT], ERROR_LEASE_EXPIRED, reason, true)
  else
    end_tasks(t.id, TASK_FAILED, ERROR_LEASE_EXPIRED, reason .. ' (no retries left after ' .. t[H_ATTEMPT] .. ' attempts)', now)
  end
end

local function session_status()
  return tonumber(redis.call('HGET', K(':m'), 'st') or '0')
end

-- create_tasks validates then stores tasks given in ARGV from index i:
-- n, then per task 8 values: tid, part, prio, maxr, deps(csv), outs(csv), body, payload; a spec
-- keeps deps and its outputs (outl) split, and outs as given (the header's csv).
-- parent: the completing task's id (its outputs may be handed over) or ''.
-- Returns (nil, specs) when valid, or (err) as {code, message}.
local function parse_tasks(i)
  local n = num(ARGV[i]); i = i + 1
  local specs = {}
  for j = 1, n do
    specs[j] = { id = ARGV[i], part = ARGV[i + 1], prio = num(ARGV[i + 2]), maxr = num(ARGV[i + 3]),
      deps = split(ARGV[i + 4], ','), outs = ARGV[i + 5], outl = split(ARGV[i + 5], ','), body = ARGV[i + 6],
      payload = ARGV[i + 7] }
    i = i + 8
  end
  return specs, i
end

local function check_tasks(specs, parent, maxdepth, known)
  local rids = {}
  for _, s in ipairs(specs) do
    for _, rid in ipairs(s.outl) do rids[#rids + 1] = rid end
    for _, rid in ipairs(s.deps) do rids[#rids + 1] = rid end
  end
  rprefetch(rids)
  local batchOut = {}
  local perPart = {}
  for _, s in ipairs(specs) do
    if not s.fresh and texists(s.id) then
      return { 'ALREADY_EXISTS', 'task id ' .. ext(s.id) .. ' is already taken' }
    end
    for _, rid in ipairs(s.outl) do
      if batchOut[rid] then
        return { 'FAILED_PRECONDITION', 'output ' .. rid .. ' is expected by two tasks of the batch (' .. ext(batchOut[rid]) .. ' and ' .. ext(s.id) .. ')' }
      end
      batchOut[rid] = s.id
      local r = rget(rid)
      if r then
        if r.st ~= RESULT_CREATED then
          return { 'FAILED_PRECONDITION', 'output ' .. rid .. ' of task ' .. ext(s.id) .. ' is already ' .. (r.st == RESULT_COMPLETED and 'completed' or 'aborted') }
        end
        if r.owner ~= '' and r.owner ~= parent then
          local o = tget(r.owner)
          if o and not finished(o[H_STATUS]) then
            return { 'FAILED_PRECONDITION', 'output ' .. rid .. ' of task ' .. ext(s.id) .. ' is owned by unfinished task ' .. ext(r.owner) }
          end
        end
      end
    end
    perPart[s.part] = (perPart[s.part] or 0) + 1
  end
  for _, s in ipairs(specs) do
    for _, rid in ipairs(s.deps) do
      if not batchOut[rid] and not known[rid] then
        local r = rget(rid)
        if not r then
          return { 'FAILED_PRECONDITION', 'dependency ' .. rid .. ' of task ' .. ext(s.id) .. ' does not exist: create the result or submit the task that outputs it in the same batch' }
        end
        if r.st == RESULT_ABORTED then
          return { 'FAILED_PRECONDITION', 'dependency ' .. rid .. ' of task ' .. ext(s.id) .. ' was aborted: ' .. r.reason }
        end
      end
    end
  end
  if maxdepth > 0 then
    for p, add in pairs(perPart) do
      local c = redis.call('HMGET', K(':pc:' .. p), istr(TASK_PENDING), istr(TASK_QUEUED))
      local depth = tonumber(c[1] or '0') + tonumber(c[2] or '0')
      if depth + add > maxdepth then
        return { 'RESOURCE_EXHAUSTED', 'partition ' .. p .. ' would hold ' .. (depth + add) .. ' unfinished tasks of this session, over the limit of ' .. maxdepth .. ': wait for tasks to finish' }
      end
    end
  end
  return nil
end

-- store_tasks writes validated specs at time now (ms, a string); returns a flat list tid, status per
-- task.
local function store_tasks(specs, now, touched)
  local out = {}
  local cms = now -- the caller's string of digits, written into records as it is
  now = tonumber(now)
  for _, s in ipairs(specs) do
    for _, rid in ipairs(s.outl) do
      local r = rget(rid)
      if r then
        r.owner = s.id
      else
        r = { st = RESULT_CREATED, owner = s.id, size = '0', sha = '', loc = '0', cms = cms, ems = '0', reason = '', id = rid }
        rpush_later(':rl', rid)
      end
      rput(r)
    end
  end
  local parts = {}
  for _, s in ipairs(specs) do
    local nwait = 0
    for _, rid in ipairs(s.deps) do
      local r = rget(rid)
      if not r or r.st ~= RESULT_COMPLETED then
        nwait = nwait + 1
        redis.call('RPUSH', K(':w:' .. rid), s.id)
        redis.call('SADD', K(':wl'), rid)
        HASW[rid] = true
      end
    end
    local t = { 0, 0, '', s.part, s.prio, s.maxr, nwait, now, s.outs, '', 0, 0 }
    t.id = s.id
    if nwait == 0 then
      enqueue(t, now, touched)
    else
      count(t[H_PARTITION], 0, TASK_PENDING)
      t[H_STATUS] = TASK_PENDING
    end
    ev_task(t.id, t[H_STATUS], 0)
    tput(t)
    if #s.body <= BODY_INLINE then t[H_BODY] = s.body else hset_later(':tb', t.id, s.body) end
    rpush_later(':tl', t.id)
    parts[s.part] = true
    if s.payload ~= '' then hset_later(':pl', s.id, s.payload) end
    out[#out + 1] = s.id
    out[#out + 1] = t[H_STATUS]
  end
  for p, _ in pairs(parts) do redis.call('SADD', K(':parts'), p) end
  return out
end

local function touched_list(touched)
  local l = {}
  for p, _ in pairs(touched) do l[#l + 1] = p end
  return l
end

-- begin starts a run: the session of KEYS[1], nothing read, nothing deferred. A run that raised an
-- error leaves its deferred writes behind (a function library keeps them): they are dropped here.
local function begin()
  TAG = string.sub(KEYS[1], 1, -3)
  SID = string.sub(TAG, PREFIXLEN + 4, -2)
  treset(); rreset()
  HLATER, LLATER, UNLEASE = {}, {}, {}
  EVG, NEVG, EVLAST = {}, 0, {}
  CNT = {}
  HASW = {}
  QSUF = {}
end
