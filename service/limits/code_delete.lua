-- DELETE of a dynamic QR code by its owner; the redirect stops at once.
-- KEYS[1] code hash   KEYS[2] referrers   KEYS[3] recent scans   KEYS[4] account hash
-- KEYS[5] codes index   ARGV[1] account id
local c = redis.call('HMGET', KEYS[1], 'account', 'is_active', 'short_id')
if c[1] ~= ARGV[1] then return 0 end
if c[2] == '1' then redis.call('HINCRBY', KEYS[4], 'active_codes', -1) end
redis.call('ZREM', KEYS[5], c[3])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
