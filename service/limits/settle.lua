-- Tells the sweeper about a charged attempt: ARGV[1] 'done' (its stream completed: never
-- sweep it) or 'alive' (still streaming: its age counts from ARGV[2], now in ms).
-- KEYS[1] attempt qs:{acct}:attempt:<id>
-- Returns 1, or 0 when the attempt is not (or no longer) charged: already refunded.
local rec = redis.call('GET', KEYS[1])
if not rec then return 0 end
local r = cjson.decode(rec)
if r.s ~= 'charged' then return 0 end
if ARGV[1] == 'done' then
  r.s = 'done'
else
  r.t = tonumber(ARGV[2])
end
redis.call('SET', KEYS[1], cjson.encode(r), 'KEEPTTL')
return 1
