-- results_create.lua: create results, all or none.
-- KEYS[1] session meta. ARGV: [1] now (ms), [2] n, then per result 6 values: id, has data (0/1), size,
-- sha256, location (1 inline, 2 object), data (inline bytes or object key).
-- Returns 1; NOT_FOUND, FAILED_PRECONDITION or ALREADY_EXISTS errors (nothing written).
local st = session_status()
if st == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
if st ~= SESSION_RUNNING and st ~= SESSION_PAUSED then
  local names = { [SESSION_CLOSED] = 'closed', [SESSION_CANCELLED] = 'cancelled', [SESSION_PURGED] = 'purged' }
  return redis.error_reply('FAILED_PRECONDITION session ' .. SID .. ' is ' .. (names[st] or ('in status ' .. st)) .. ': it accepts no new results')
end
local now = ARGV[1]
local n = tonumber(ARGV[2])
local seen = {}
for j = 0, n - 1 do
  local rid = ARGV[3 + j * 6]
  if seen[rid] or rexists(rid) then
    return redis.error_reply('ALREADY_EXISTS result id ' .. rid .. ' is taken')
  end
  seen[rid] = true
end
local touched = {}
for j = 0, n - 1 do
  local b = 3 + j * 6
  local r = { id = ARGV[b], st = RESULT_CREATED, owner = '', size = '0', sha = '', loc = '0', cms = now, ems = '0', reason = '' }
  rpush_later(':rl', r.id)
  if ARGV[b + 1] == '1' then
    complete_result(r, ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], now, touched)
  else
    rput(r)
    ev_result(r.id, RESULT_CREATED, 0)
  end
end
return 1
