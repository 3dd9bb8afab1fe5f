-- claim.lua: lease up to n QUEUED tasks of one partition of one session (priority, then age).
-- KEYS[1] session meta. ARGV: [1] partition, [2] n, [3] now (ms), [4] lease ttl (ms), [5] agent id,
-- [6] token prefix (unique per call).
-- Returns {claimed, queue length left, weight, next retry due ms or -1, session status} where claimed
-- is a flat list of id, attempt, token, record, payload. Retry-delayed tasks that are due are queued
-- first. A session that is not RUNNING or CLOSED yields nothing.
local part, n, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local meta = redis.call('HMGET', K(':m'), 'st', 'w')
local st = tonumber(meta[1] or '0')
local w = tonumber(meta[2] or '1')
local qk, dk = K(':q:' .. part), K(':d:' .. part)
local function nextdue()
  local d = redis.call('ZRANGE', dk, 0, 0, 'WITHSCORES')
  if #d == 0 then return -1 end
  return tonumber(d[2])
end
if st ~= 1 and st ~= 3 then return { {}, redis.call('ZCARD', qk), w, nextdue(), st } end
for _, tid in ipairs(redis.call('ZRANGEBYSCORE', dk, '-inf', now)) do
  local t = tget(tid)
  if t and t.st == 2 then redis.call('ZADD', qk, qscore(t.prio, t.qms), tid) end
  redis.call('ZREM', dk, tid)
end
local out = {}
local popped = redis.call('ZPOPMIN', qk, n)
for j = 1, #popped, 2 do
  local t = tget(popped[j])
  if t and t.st == 2 then
    count(t.part, 2, 3)
    t.st = 3; t.att = t.att + 1; t.tok = ARGV[6] .. j; t.agent = ARGV[5]
    tput(t)
    redis.call('ZADD', K(':l:' .. part), now + tonumber(ARGV[4]), t.id)
    local raw = redis.call('HGET', K(':at'), t.id)
    local list = raw and cjson.decode(raw) or {}
    list[#list + 1] = { n = t.att, g = ARGV[5], d = now }
    redis.call('HSET', K(':at'), t.id, cjson.encode(list))
    event('k', '1', 'i', t.id, 's', '3', 'a', t.att)
    out[#out + 1] = t.id
    out[#out + 1] = t.att
    out[#out + 1] = t.tok
    out[#out + 1] = redis.call('HGET', K(':t'), t.id)
    out[#out + 1] = redis.call('HGET', K(':pl'), t.id) or ''
  end
end
return { out, redis.call('ZCARD', qk), w, nextdue(), st }
