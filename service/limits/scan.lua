-- The public redirect's one round trip: look the code up and count the scan.
-- KEYS[1] code hash   KEYS[2] its referrers hash   KEYS[3] its recent scans list
-- ARGV[1] now ISO   ARGV[2] day YYYY-MM-DD   ARGV[3] month YYYYMM   ARGV[4] user-agent family
-- ARGV[5] referrer host ('' for none)   ARGV[6] recent entry (JSON)   ARGV[7] recent cap
-- ARGV[8] distinct referrers cap
-- KEYS[4] event stream qs:{T}:events   KEYS[5] webhook interest qs:{T}:wh:interest (T: the
-- slot tag of the code's token, which is its account's): a scan.created event enters the
-- stream here, in the same round trip, when the account's webhooks want it.
-- Returns {state, destination}: state 'ok', 'paused' or 'missing'. Paused codes are counted.
local found = redis.call('HMGET', KEYS[1], 'destination_url', 'is_active', 'account', 'id',
                         'short_id')
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
local wanted = found[3] and redis.call('HGET', KEYS[5], found[3])
if wanted and string.find(wanted, ' scan.created ', 1, true) then
  local referrer = cjson.null
  if ARGV[5] ~= '' then referrer = ARGV[5] end
  redis.call('XADD', KEYS[4], '*', 'type', 'scan.created', 'at', ARGV[1], 'account', found[3],
             'data', cjson.encode({short_id = found[5], dynamic_qr_id = tonumber(found[4]),
                                   scanned_at = ARGV[1], user_agent_family = ARGV[4],
                                   referrer_host = referrer, paused = found[2] ~= '1'}))
end
if found[2] == '1' then
  return {'ok', found[1]}
end
return {'paused', found[1]}
