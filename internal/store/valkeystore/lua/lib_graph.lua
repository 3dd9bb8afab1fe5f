-- lib_graph.lua: the dependency-cycle check, prepended after lib.lua to every session script.
-- The graph's nodes are results; a task waiting on result a and expected to write result b is an
-- edge a -> b. Stored tasks add their edges through the waiter lists :w:<a> (PENDING tasks only);
-- the tasks of a batch add theirs from their specs. The stored graph has no cycle (every batch passes
-- this check), so a cycle must go through a task of the batch: a depth-first walk from the batch's
-- outputs finds it.
local CYCLE_VISITS = 50000

-- check_cycles returns nil, or {code, message} naming the cycle, for specs as parse_tasks gives them.
local function check_cycles(specs)
  local newEdges = {}
  for _, s in ipairs(specs) do
    for _, d in ipairs(s.deps) do
      local l = newEdges[d]
      if not l then l = {}; newEdges[d] = l end
      l[#l + 1] = { s.id, s.outl }
    end
  end
  -- a batch without dependencies adds no edge: no cycle goes through it
  if next(newEdges) == nil then return nil end
  local roots = {}
  for _, s in ipairs(specs) do
    for _, o in ipairs(s.outl) do roots[#roots + 1] = o end
  end
  local visits = 0 -- results entered plus stored waiters read: the bound on the work
  -- edges(r) lists {task id, result id} pairs: task waits on r and writes result id.
  local function edges(r)
    local out = {}
    for _, e in ipairs(newEdges[r] or {}) do
      for _, o in ipairs(e[2]) do out[#out + 1] = { e[1], o } end
    end
    local wk = K(':w:' .. r)
    local nw = redis.call('LLEN', wk)
    if nw == 0 then return out end
    visits = visits + nw
    if visits > CYCLE_VISITS then return nil end
    for _, tid in ipairs(redis.call('LRANGE', wk, 0, -1)) do
      local t = tget(tid)
      if t and t[H_STATUS] == TASK_PENDING then
        for _, o in ipairs(split(t[H_OUTPUTS], ',')) do out[#out + 1] = { tid, o } end
      end
    end
    return out
  end
  local tooMany = { 'FAILED_PRECONDITION', 'the outputs of this batch reach more than ' .. CYCLE_VISITS ..
    ' waiting tasks and results, too many to check for a dependency cycle: submit the dependents after their inputs complete' }
  local color = {} -- nil white, 1 on the current path, 2 done
  for _, root in ipairs(roots) do
    if not color[root] then
      color[root] = 1
      local re = edges(root)
      if not re then return tooMany end
      local stack = { { r = root, e = re, i = 0, via = nil } }
      while #stack > 0 do
        local f = stack[#stack]
        f.i = f.i + 1
        local e = f.e[f.i]
        if not e then
          color[f.r] = 2
          table.remove(stack)
        else
          local tid, nxt = e[1], e[2]
          if color[nxt] == 1 then
            -- name the cycle: from nxt along the path back to nxt
            local parts = {}
            local start = 1
            for j = 1, #stack do if stack[j].r == nxt then start = j end end
            for j = start, #stack do
              parts[#parts + 1] = 'result ' .. stack[j].r
              local via = (j < #stack) and stack[j + 1].via or tid
              parts[#parts + 1] = 'task ' .. ext(via)
            end
            parts[#parts + 1] = 'result ' .. nxt
            return { 'FAILED_PRECONDITION', 'the dependencies form a cycle that would wait forever: ' ..
              table.concat(parts, ' -> ') .. ' (each task waits on the result before it and writes the one after it): remove one of these dependencies' }
          end
          if not color[nxt] then
            visits = visits + 1
            local ne = edges(nxt)
            if not ne or visits > CYCLE_VISITS then return tooMany end
            color[nxt] = 1
            stack[#stack + 1] = { r = nxt, e = ne, i = 0, via = tid }
          end
        end
      end
    end
  end
  return nil
end

-- purge_refusal returns why a session in status st cannot be purged now, or nil.
local function purge_refusal(st)
  if st ~= SESSION_CLOSED and st ~= SESSION_CANCELLED then
    return 'FAILED_PRECONDITION session ' .. SID .. ' is ' .. (st == SESSION_PAUSED and 'paused' or 'running') ..
      ': only a closed or cancelled session can be purged; close or cancel it first'
  end
  if redis.call('HEXISTS', K(':m'), 'cc') == 1 then
    return 'FAILED_PRECONDITION session ' .. SID .. ' is still being cancelled in the background: retry the purge in a few seconds'
  end
  local c = redis.call('HMGET', K(':c'), istr(TASK_PENDING), istr(TASK_QUEUED), istr(TASK_DISPATCHED), istr(TASK_RUNNING))
  local left = 0
  for j = 1, 4 do left = left + tonumber(c[j] or '0') end
  if left > 0 then
    return 'FAILED_PRECONDITION session ' .. SID .. ' has ' .. left .. ' unfinished tasks (' .. (c[1] or '0') .. ' pending, ' ..
      (c[2] or '0') .. ' queued, ' .. (c[3] or '0') .. ' dispatched, ' .. (c[4] or '0') ..
      ' running): wait for them to end, or cancel the session, then purge'
  end
  return nil
end
