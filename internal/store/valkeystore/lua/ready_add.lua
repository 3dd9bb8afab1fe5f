-- ready_add.lua (partition slot, without lib.lua): mark sessions as having ready work in a partition
-- and wake agents blocked in WaitForWork.
-- KEYS[1] partition ready index, KEYS[2] partition virtual time, KEYS[3] wake-up list.
-- ARGV: session ids. A session not in the index joins at the current virtual time, so it neither
-- starves others nor is starved by work it did not have. Returns the number added.
local vt = redis.call('GET', KEYS[2]) or '0'
local added = 0
for _, sid in ipairs(ARGV) do
  added = added + redis.call('ZADD', KEYS[1], 'NX', vt, sid)
end
redis.call('RPUSH', KEYS[3], '1')
redis.call('LTRIM', KEYS[3], -64, -1)
return added
