-- Marks a charged attempt as settled (its stream completed): the sweeper leaves it alone.
-- KEYS[1] attempt qs:{acct}:attempt:<id>
-- Returns 1 when marked, 0 when the attempt was not (or no longer) charged.
local rec = redis.call('GET', KEYS[1])
if not rec then return 0 end
local r = cjson.decode(rec)
if r.s ~= 'charged' then return 0 end
r.s = 'done'
redis.call('SET', KEYS[1], cjson.encode(r), 'KEEPTTL')
return 1
