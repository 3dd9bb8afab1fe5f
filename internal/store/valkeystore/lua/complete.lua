-- complete.lua: finish a leased task atomically with its outputs, new results and subtasks.
-- KEYS[1] session meta. ARGV: [1] task id, [2] token, [3] now (ms),
-- [4] number of outputs, then per output 5 values: result id, size, sha256, location, data;
-- then the number of new results and per result 6 values: id, has data (0/1), size, sha256,
-- location, data; then the subtasks as in submit.lua (n, then 8 values per task).
-- An expected output neither written nor handed to a subtask is aborted (its dependents fail).
-- Returns the partitions where tasks became QUEUED; LEASE_LOST (first completion wins, nothing
-- changes), FAILED_PRECONDITION or ALREADY_EXISTS errors (nothing written).
local tid, now = ARGV[1], ARGV[3]
local t = tget(tid)
if not t or (t.st ~= 3 and t.st ~= 4) or t.tok ~= ARGV[2] then
  return redis.error_reply('LEASE_LOST the lease on task ' .. tid .. ' is no longer held (expired, released or the task already finished)')
end
local mine = {}
for _, rid in ipairs(split(t.outs, ',')) do mine[rid] = true end
local i = 4
local nout = tonumber(ARGV[i]); i = i + 1
local outs = {}
local writing = {}
for j = 1, nout do
  local o = { rid = ARGV[i], size = ARGV[i + 1], sha = ARGV[i + 2], loc = ARGV[i + 3], data = ARGV[i + 4] }
  i = i + 5
  if not mine[o.rid] then
    return redis.error_reply('FAILED_PRECONDITION result ' .. o.rid .. ' is not an expected output of task ' .. tid)
  end
  if writing[o.rid] then return redis.error_reply('FAILED_PRECONDITION output ' .. o.rid .. ' is written twice') end
  local r = rget(o.rid)
  if not r or r.st ~= 1 or r.owner ~= tid then
    return redis.error_reply('FAILED_PRECONDITION output ' .. o.rid .. ' of task ' .. tid .. ' can no longer be written (already written, aborted or handed over)')
  end
  writing[o.rid] = true
  outs[#outs + 1] = o
end
local nnew = tonumber(ARGV[i]); i = i + 1
local news = {}
local known = {}
for j = 1, nnew do
  local r = { id = ARGV[i], has = ARGV[i + 1], size = ARGV[i + 2], sha = ARGV[i + 3], loc = ARGV[i + 4], data = ARGV[i + 5] }
  i = i + 6
  if known[r.id] or redis.call('HEXISTS', K(':r'), r.id) == 1 then
    return redis.error_reply('ALREADY_EXISTS result id ' .. r.id .. ' is taken')
  end
  known[r.id] = true
  news[#news + 1] = r
end
for rid, _ in pairs(writing) do known[rid] = true end
local specs = parse_tasks(i)
for _, s in ipairs(specs) do
  for _, rid in ipairs(split(s.outs, ',')) do
    if writing[rid] then
      return redis.error_reply('FAILED_PRECONDITION output ' .. rid .. ' is both written by task ' .. tid .. ' and handed to subtask ' .. s.id)
    end
    if known[rid] then
      return redis.error_reply('FAILED_PRECONDITION result ' .. rid .. ' is created by the completion and also expected from subtask ' .. s.id)
    end
  end
end
local err = check_tasks(specs, tid, 0, known)
if not err then err = check_cycles(specs) end
if err then return redis.error_reply(err[1] .. ' ' .. err[2]) end
-- all checks passed: write
local touched = {}
for _, r in ipairs(news) do
  local rr = { id = r.id, st = 1, owner = '', size = '0', sha = '', loc = '0', cms = now, ems = '0', reason = '' }
  redis.call('RPUSH', K(':rl'), r.id)
  rput(rr)
  event('k', '2', 'i', r.id, 's', '1')
end
local sub = store_tasks(specs, now, touched)
for _, r in ipairs(news) do
  if r.has == '1' then complete_result(rget(r.id), r.size, r.sha, r.loc, r.data, now, touched) end
end
for _, o in ipairs(outs) do
  complete_result(rget(o.rid), o.size, o.sha, o.loc, o.data, now, touched)
end
unlease(t)
local raw = redis.call('HGET', K(':at'), tid)
if raw then
  local list = cjson.decode(raw)
  local a = list[#list]
  if a and a.n == t.att then a.e = now; redis.call('HSET', K(':at'), tid, cjson.encode(list)) end
end
count(t.part, t.st, 5)
t.st = 5; t.tok = ''
tput(t)
redis.call('HSET', K(':te'), tid, now .. '||')
event('k', '1', 'i', tid, 's', '5', 'a', t.att)
for rid, _ in pairs(mine) do
  local r = rget(rid)
  if r and r.st == 1 and r.owner == tid then
    local reason = 'task ' .. tid .. ' completed without writing its expected output ' .. rid
    r.st = 3; r.ems = now; r.reason = reason
    rput(r)
    event('k', '2', 'i', rid, 's', '3', 'ar', reason)
    local wk = K(':w:' .. rid)
    local ws = redis.call('LRANGE', wk, 0, -1)
    redis.call('DEL', wk)
    for _, w in ipairs(ws) do end_tasks(w, 6, '5', 'dependency ' .. rid .. ' was aborted (' .. reason .. ')', now) end
  end
end
return touched_list(touched)
