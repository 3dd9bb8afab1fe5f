-- lib.lua: shared helpers prepended to every session script (not a script by itself).
-- The calling script's KEYS[1] is the session meta key "{<prefix>s:<id>}:m"; every other key of the
-- session is that tag plus a suffix (see keys.go, the one place that documents the layout):
--   :m meta hash  :c counts  :pc:<p> counts per partition  :parts partitions used
--   :t task records  :pl payloads  :at attempts  :tl task order  :r results  :rd result data
--   :rl result order  :w:<rid> waiters  :q:<p> ready queue  :d:<p> retry-delayed  :l:<p> leases
--   :ev events  :req:<id> idempotent answers  :te task ends (ms|error kind|message)
-- Task record: "st|att|tok|part|prio|maxr|nwait|qms|outs|agent\n<protobuf chorus.v1.Task body>".
-- Result record: "st|owner|size|sha|loc|cms|ems|reason".
local TAG = string.sub(KEYS[1], 1, -3)
local function K(s) return TAG .. s end
-- SID is the session id as the caller gave it: the tag is '{' .. prefix .. 's:' .. id .. '}' and
-- PREFIXLEN (the key prefix's length) is set by scripts.go before this file.
local SID = string.sub(TAG, PREFIXLEN + 4, -2)
local EVCAP = 100000

local function split(s, sep)
  local out = {}
  if s == nil or s == '' then return out end
  local start = 1
  while true do
    local i = string.find(s, sep, start, true)
    if not i then out[#out + 1] = string.sub(s, start); break end
    out[#out + 1] = string.sub(s, start, i - 1)
    start = i + 1
  end
  return out
end

local function tget(tid)
  local v = redis.call('HGET', K(':t'), tid)
  if not v then return nil end
  local nl = string.find(v, '\n', 1, true)
  local f = split(string.sub(v, 1, nl - 1), '|')
  return { st = tonumber(f[1]), att = tonumber(f[2]), tok = f[3], part = f[4], prio = tonumber(f[5]),
    maxr = tonumber(f[6]), nwait = tonumber(f[7]), qms = f[8], outs = f[9], agent = f[10] or '',
    body = string.sub(v, nl + 1), id = tid }
end

local function tput(t)
  redis.call('HSET', K(':t'), t.id, t.st .. '|' .. t.att .. '|' .. t.tok .. '|' .. t.part .. '|' .. t.prio .. '|' ..
    t.maxr .. '|' .. t.nwait .. '|' .. t.qms .. '|' .. t.outs .. '|' .. t.agent .. '\n' .. t.body)
end

local function rget(rid)
  local v = redis.call('HGET', K(':r'), rid)
  if not v then return nil end
  local f = split(v, '|')
  local reason = ''
  if #f > 8 then reason = table.concat(f, '|', 8) else reason = f[8] or '' end
  return { st = tonumber(f[1]), owner = f[2], size = f[3], sha = f[4], loc = f[5], cms = f[6], ems = f[7],
    reason = reason, id = rid }
end

local function rput(r)
  redis.call('HSET', K(':r'), r.id, r.st .. '|' .. r.owner .. '|' .. r.size .. '|' .. r.sha .. '|' .. r.loc .. '|' ..
    r.cms .. '|' .. r.ems .. '|' .. r.reason)
end

local function event(...)
  redis.call('XADD', K(':ev'), 'MAXLEN', '~', EVCAP, '*', ...)
end

local function count(part, from, to)
  if from ~= 0 then
    redis.call('HINCRBY', K(':c'), from, -1)
    redis.call('HINCRBY', K(':pc:' .. part), from, -1)
  end
  if to ~= 0 then
    redis.call('HINCRBY', K(':c'), to, 1)
    redis.call('HINCRBY', K(':pc:' .. part), to, 1)
  end
end

local function finished(st) return st >= 5 end

-- score orders a queue by priority (9 first) then age.
local function qscore(prio, ms) return (9 - prio) * 10000000000000 + tonumber(ms) end

-- enqueue makes task t QUEUED now (the caller saves it).
local function enqueue(t, now, touched)
  count(t.part, t.st, 2)
  t.st = 2; t.tok = ''; t.qms = now
  redis.call('ZADD', K(':q:' .. t.part), qscore(t.prio, now), t.id)
  touched[t.part] = true
end

local function attempt_end(tid, att, now, ekind, emsg, retryable)
  local raw = redis.call('HGET', K(':at'), tid)
  if not raw then return end
  local list = cjson.decode(raw)
  local a = list[#list]
  if a and a.n == att then
    a.e = now; a.k = ekind; a.m = emsg; a.r = retryable
    redis.call('HSET', K(':at'), tid, cjson.encode(list))
  end
end

local function unlease(t)
  redis.call('ZREM', K(':l:' .. t.part), t.id)
end

-- complete_result marks result rid COMPLETED and releases its waiters (each exactly once: the waiter
-- list is deleted here and a result completes once).
local function complete_result(r, size, sha, loc, data, now, touched)
  r.st = 2; r.size = size; r.sha = sha; r.loc = loc; r.ems = now
  rput(r)
  redis.call('HSET', K(':rd'), r.id, data)
  event('k', '2', 'i', r.id, 's', '2', 'z', size)
  local wk = K(':w:' .. r.id)
  local ws = redis.call('LRANGE', wk, 0, -1)
  redis.call('DEL', wk)
  for _, tid in ipairs(ws) do
    local t = tget(tid)
    if t and t.st == 1 then
      t.nwait = t.nwait - 1
      if t.nwait <= 0 then
        t.nwait = 0
        enqueue(t, now, touched)
        event('k', '1', 'i', tid, 's', '2', 'a', t.att)
      end
      tput(t)
    end
  end
end

-- end_tasks ends task tid with status st (6 failed, 7 cancelled) and error (ekind, emsg), aborts its
-- unwritten outputs and ends every task waiting on them, transitively. Returns how many tasks ended.
local function end_tasks(tid, st, ekind, emsg, now)
  local n = 0
  local stack = { { tid, ekind, emsg } }
  while #stack > 0 do
    local top = table.remove(stack)
    local t = tget(top[1])
    if t and not finished(t.st) then
      if t.st == 2 then
        redis.call('ZREM', K(':q:' .. t.part), t.id)
        redis.call('ZREM', K(':d:' .. t.part), t.id)
      elseif t.st == 3 or t.st == 4 then
        unlease(t)
        attempt_end(t.id, t.att, now, top[2], top[3], false)
      end
      count(t.part, t.st, st)
      t.st = st; t.tok = ''
      tput(t)
      redis.call('HSET', K(':te'), t.id, now .. '|' .. top[2] .. '|' .. top[3])
      event('k', '1', 'i', t.id, 's', st, 'a', t.att, 'ek', top[2], 'em', top[3])
      n = n + 1
      local reason = 'task ' .. t.id .. ' ended ' .. (st == 7 and 'cancelled' or 'failed') .. ': ' .. top[3]
      for _, rid in ipairs(split(t.outs, ',')) do
        local r = rget(rid)
        if r and r.st == 1 and r.owner == t.id then
          r.st = 3; r.ems = now; r.reason = reason
          rput(r)
          event('k', '2', 'i', rid, 's', '3', 'ar', reason)
          local wk = K(':w:' .. rid)
          local ws = redis.call('LRANGE', wk, 0, -1)
          redis.call('DEL', wk)
          for _, w in ipairs(ws) do
            stack[#stack + 1] = { w, st == 7 and '8' or '5', 'dependency ' .. rid .. ' was aborted (' .. reason .. ')' }
          end
        end
      end
    end
  end
  return n
end

local function session_status()
  return tonumber(redis.call('HGET', K(':m'), 'st') or '0')
end

-- create_tasks validates then stores tasks given in ARGV from index i:
-- n, then per task 8 values: tid, part, prio, maxr, deps(csv), outs(csv), body, payload.
-- parent: the completing task's id (its outputs may be handed over) or ''.
-- Returns (nil, specs) when valid, or (err) as {code, message}.
local function parse_tasks(i)
  local n = tonumber(ARGV[i]); i = i + 1
  local specs = {}
  for j = 1, n do
    specs[j] = { id = ARGV[i], part = ARGV[i + 1], prio = tonumber(ARGV[i + 2]), maxr = tonumber(ARGV[i + 3]),
      deps = split(ARGV[i + 4], ','), outs = ARGV[i + 5], body = ARGV[i + 6], payload = ARGV[i + 7] }
    i = i + 8
  end
  return specs, i
end

local function check_tasks(specs, parent, maxdepth, known)
  local batchOut = {}
  local perPart = {}
  for _, s in ipairs(specs) do
    if redis.call('HEXISTS', K(':t'), s.id) == 1 then
      return { 'ALREADY_EXISTS', 'task id ' .. s.id .. ' is already taken' }
    end
    for _, rid in ipairs(split(s.outs, ',')) do
      if batchOut[rid] then
        return { 'FAILED_PRECONDITION', 'output ' .. rid .. ' is expected by two tasks of the batch (' .. batchOut[rid] .. ' and ' .. s.id .. ')' }
      end
      batchOut[rid] = s.id
      local r = rget(rid)
      if r then
        if r.st ~= 1 then
          return { 'FAILED_PRECONDITION', 'output ' .. rid .. ' of task ' .. s.id .. ' is already ' .. (r.st == 2 and 'completed' or 'aborted') }
        end
        if r.owner ~= '' and r.owner ~= parent then
          local o = tget(r.owner)
          if o and not finished(o.st) then
            return { 'FAILED_PRECONDITION', 'output ' .. rid .. ' of task ' .. s.id .. ' is owned by unfinished task ' .. r.owner }
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
          return { 'FAILED_PRECONDITION', 'dependency ' .. rid .. ' of task ' .. s.id .. ' does not exist: create the result or submit the task that outputs it in the same batch' }
        end
        if r.st == 3 then
          return { 'FAILED_PRECONDITION', 'dependency ' .. rid .. ' of task ' .. s.id .. ' was aborted: ' .. r.reason }
        end
      end
    end
  end
  if maxdepth > 0 then
    for p, add in pairs(perPart) do
      local c = redis.call('HMGET', K(':pc:' .. p), '1', '2')
      local depth = tonumber(c[1] or '0') + tonumber(c[2] or '0')
      if depth + add > maxdepth then
        return { 'RESOURCE_EXHAUSTED', 'partition ' .. p .. ' would hold ' .. (depth + add) .. ' unfinished tasks of this session, over the limit of ' .. maxdepth .. ': wait for tasks to finish' }
      end
    end
  end
  return nil
end

-- store_tasks writes validated specs; returns a flat list tid, status per task.
local function store_tasks(specs, now, touched)
  local out = {}
  for _, s in ipairs(specs) do
    for _, rid in ipairs(split(s.outs, ',')) do
      local r = rget(rid)
      if r then
        r.owner = s.id
      else
        r = { st = 1, owner = s.id, size = '0', sha = '', loc = '0', cms = now, ems = '0', reason = '', id = rid }
        redis.call('RPUSH', K(':rl'), rid)
      end
      rput(r)
    end
  end
  for _, s in ipairs(specs) do
    local nwait = 0
    for _, rid in ipairs(s.deps) do
      local r = rget(rid)
      if not r or r.st ~= 2 then
        nwait = nwait + 1
        redis.call('RPUSH', K(':w:' .. rid), s.id)
      end
    end
    local t = { id = s.id, st = 0, att = 0, tok = '', part = s.part, prio = s.prio, maxr = s.maxr, nwait = nwait,
      qms = now, outs = s.outs, agent = '', body = s.body }
    if nwait == 0 then
      enqueue(t, now, touched)
    else
      count(t.part, 0, 1)
      t.st = 1
    end
    tput(t)
    if s.payload ~= '' then redis.call('HSET', K(':pl'), s.id, s.payload) end
    redis.call('RPUSH', K(':tl'), s.id)
    redis.call('SADD', K(':parts'), s.part)
    out[#out + 1] = s.id
    out[#out + 1] = t.st
  end
  return out
end

local function touched_list(touched)
  local l = {}
  for p, _ in pairs(touched) do l[#l + 1] = p end
  return l
end
