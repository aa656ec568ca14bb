-- Gives back the credits of a charged attempt whose stream did not complete, exactly once.
-- KEYS[1] attempt qs:{acct}:attempt:<id>   KEYS[2] the usage counter the charge bumped
-- Returns 1 when credits went back, 0 when there was nothing (left) to refund.
local rec = redis.call('GET', KEYS[1])
if not rec then return 0 end
local r = cjson.decode(rec)
if r.s ~= 'charged' then return 0 end
r.s = 'refunded'
redis.call('DECRBY', KEYS[2], r.n)
redis.call('SET', KEYS[1], cjson.encode(r), 'KEEPTTL')
return 1
