-- purge.lua: delete the tasks, results and events of a CLOSED or CANCELLED session; mark it PURGED.
-- KEYS[1] session meta. ARGV: [1] now (ms).
-- Returns {object keys of its results, partitions it used}; NOT_FOUND or FAILED_PRECONDITION errors.
local st = session_status()
if st == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
if st == 5 then return { {}, {} } end
if st ~= 3 and st ~= 4 then
  return redis.error_reply('FAILED_PRECONDITION session ' .. SID .. ' is ' .. (st == 2 and 'paused' or 'running') .. ': only a closed or cancelled session can be purged; close or cancel it first')
end
local objs = {}
for _, rid in ipairs(redis.call('LRANGE', K(':rl'), 0, -1)) do
  local r = rget(rid)
  if r and r.loc == '2' then objs[#objs + 1] = redis.call('HGET', K(':rd'), rid) end
  redis.call('DEL', K(':w:' .. rid))
end
local parts = redis.call('SMEMBERS', K(':parts'))
for _, p in ipairs(parts) do
  redis.call('DEL', K(':q:' .. p), K(':d:' .. p), K(':l:' .. p), K(':pc:' .. p))
end
redis.call('DEL', K(':t'), K(':tb'), K(':pl'), K(':at'), K(':tl'), K(':te'), K(':r'), K(':rd'), K(':rtp'), K(':rl'), K(':ev'), K(':parts'), K(':c'))
redis.call('HSET', K(':m'), 'st', 5, 'ut', ARGV[1])
return { objs, parts }
