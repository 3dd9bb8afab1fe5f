-- result_complete.lua: write the data of a CREATED result no task owns (a client upload).
-- KEYS[1] session meta. ARGV: [1] result id, [2] size, [3] sha256, [4] location, [5] data, [6] now (ms).
-- Returns the partitions where tasks became QUEUED; NOT_FOUND or FAILED_PRECONDITION errors.
if session_status() == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
local r = rget(ARGV[1])
if not r then return redis.error_reply('NOT_FOUND result ' .. ARGV[1] .. ' does not exist in session ' .. SID) end
if r.st ~= RESULT_CREATED then
  return redis.error_reply('FAILED_PRECONDITION result ' .. r.id .. ' is already ' .. (r.st == RESULT_COMPLETED and 'completed' or 'aborted') .. '; results are written once')
end
if r.owner ~= '' then
  return redis.error_reply('FAILED_PRECONDITION result ' .. r.id .. ' is an output of task ' .. ext(r.owner) .. ' and only that task may write it')
end
local touched = {}
complete_result(r, ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], touched)
return touched_list(touched)
