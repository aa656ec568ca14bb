-- The public redirect's one round trip: look the code up and count the scan.
-- KEYS[1] code hash   KEYS[2] its referrers hash   KEYS[3] its recent scans list
-- ARGV[1] now ISO   ARGV[2] day YYYY-MM-DD   ARGV[3] month YYYYMM   ARGV[4] user-agent family
-- ARGV[5] referrer host ('' for none)   ARGV[6] recent entry (JSON)   ARGV[7] recent cap
-- ARGV[8] distinct referrers cap
-- Returns {state, destination}: state 'ok', 'paused' or 'missing'. Paused codes are counted.
local found = redis.call('HMGET', KEYS[1], 'destination_url', 'is_active')
if not found[1] then
  return {'missing', ''}
end
redis.call('HINCRBY', KEYS[1], 'scan_count', 1)
redis.call('HSET', KEYS[1], 'last_scanned_at', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'd:' .. ARGV[2], 1)
redis.call('HINCRBY', KEYS[1], 'm:' .. ARGV[3], 1)
redis.call('HINCRBY', KEYS[1], 'u:' .. ARGV[4], 1)
if ARGV[5] ~= '' then
  if redis.call('HEXISTS', KEYS[2], ARGV[5]) == 1
      or redis.call('HLEN', KEYS[2]) < tonumber(ARGV[8]) then
    redis.call('HINCRBY', KEYS[2], ARGV[5], 1)
  else
    redis.call('HINCRBY', KEYS[2], '(other)', 1)
  end
end
redis.call('LPUSH', KEYS[3], ARGV[6])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[7]) - 1)
if found[2] == '1' then
  return {'ok', found[1]}
end
return {'paused', found[1]}
