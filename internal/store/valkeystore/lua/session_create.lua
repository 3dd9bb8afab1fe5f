-- session_create.lua: create a RUNNING session.
-- KEYS[1] session meta. ARGV: [1] weight, [2] session protobuf (chorus.v1.Session without status and
-- counts), [3] now (ms), [4] tenant ('' none; also inside the protobuf, kept as 'tn' for operators).
-- Returns 1, or an ALREADY_EXISTS error.
if redis.call('EXISTS', K(':m')) == 1 then return redis.error_reply('ALREADY_EXISTS session id is taken') end
redis.call('HSET', K(':m'), 'st', 1, 'w', ARGV[1], 'pb', ARGV[2], 'ut', ARGV[3])
if ARGV[4] and ARGV[4] ~= '' then redis.call('HSET', K(':m'), 'tn', ARGV[4]) end
ev_session(SESSION_RUNNING)
return 1
