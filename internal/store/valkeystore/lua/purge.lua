-- purge.lua: delete the tasks, results and events of a CLOSED or CANCELLED session whose tasks have
-- all ended, and mark it PURGED. Big keys are UNLINKed (freed off the main thread); the caller has
-- collected the results' object keys and dropped waiter lists beforehand in bounded steps
-- (purge_scan.lua). The meta hash stays for ARGV[2] seconds so GetSession answers PURGED, then expires.
-- KEYS[1] session meta. ARGV: [1] now (ms), [2] seconds the PURGED meta is kept.
-- Returns the partitions the session used; NOT_FOUND or FAILED_PRECONDITION errors.
local st = session_status()
if st == 0 then return redis.error_reply('NOT_FOUND session ' .. SID .. ' does not exist') end
if st == SESSION_PURGED then return {} end
local err = purge_refusal(st)
if err then return redis.error_reply(err) end
local parts = redis.call('SMEMBERS', K(':parts'))
for _, p in ipairs(parts) do
  redis.call('UNLINK', K(':d:' .. p), K(':l:' .. p), K(':pc:' .. p), unpack(queue_keys(p)))
end
redis.call('UNLINK', K(':t'), K(':tb'), K(':pl'), K(':at'), K(':tl'), K(':te'), K(':r'), K(':rd'), K(':rtp'), K(':rl'), K(':ev'), K(':parts'), K(':c'),
  K(':wl'), K(':ro'), K(':rq'))
redis.call('HSET', K(':m'), 'st', 5, 'ut', ARGV[1])
redis.call('EXPIRE', K(':m'), tonumber(ARGV[2]))
return parts
