-- The single atomic quota step of a batch (CONTRACT section 3); twin of quota.decide().
-- KEYS[1] account hash  qs:{acct}:account   (plan, monthly_quota, overage)
-- KEYS[2] usage counter qs:{acct}:usage:YYYYMM
-- KEYS[3] attempt       qs:{acct}:attempt:<server-made id>
-- ARGV[1] n   ARGV[2] plan table json {code: [quota, overage, max_bulk]}
-- ARGV[3] usage ttl s   ARGV[4] attempt ttl s   ARGV[5] "1" for a bulk call
-- Returns {status, plan, used, quota}. A re-sent call with the same attempt id returns the
-- first answer and charges nothing (redis-py retries timed-out commands by itself).
local prior = redis.call('GET', KEYS[3])
if prior then
  return cjson.decode(prior).r
end
local acct = redis.call('HMGET', KEYS[1], 'plan', 'monthly_quota', 'overage')
local code = acct[1]
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local plans = cjson.decode(ARGV[2])
local p = code and plans[code]
if not p then
  return {'no_account', code or '', used, 0}
end
local quota = tonumber(acct[2]) or p[1]
local overage = p[2] == 1
if acct[3] == '1' then overage = true elseif acct[3] == '0' then overage = false end
local n = tonumber(ARGV[1])
if ARGV[5] == '1' then
  if p[3] == 0 then return {'bulk_disabled', code, used, quota} end
  if n > p[3] then return {'bulk_cap', code, used, quota} end
end
if (not overage) and used + n > quota then
  return {'quota', code, used, quota}
end
used = redis.call('INCRBY', KEYS[2], n)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
local result = {'ok', code, used, quota}
redis.call('SET', KEYS[3], cjson.encode({s = 'charged', n = n, r = result}), 'EX', tonumber(ARGV[4]))
return result
