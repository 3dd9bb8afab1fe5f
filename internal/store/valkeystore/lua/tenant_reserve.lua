-- tenant_reserve.lua: reserve a place for a new session in its tenant's session quota.
-- KEYS[1] the tenant's live sessions (zset, not purged), KEYS[2] the tenant's sessions (zset, all);
-- both carry the tenant's hash tag {<prefix>t:<tenant>}.
-- ARGV: [1] session id, [2] now (ms), [3] most live sessions (0: no limit).
-- Returns 1 when the session was added to both sets, or 0 (nothing written) when the quota is full.
local max = tonumber(ARGV[3])
if max > 0 and redis.call('ZCARD', KEYS[1]) >= max then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
