-- The single atomic step of a batch (CONTRACT section 3); twin of MemoryStore.charge().
-- Checks the plan's caps, the active dynamic QR cap and the monthly quota; charges the credits
-- and creates the batch's dynamic QR codes, or does nothing at all.
-- KEYS[1] account hash  qs:{acct}:account   (plan, monthly_quota, overage, active_codes, code_seq)
-- KEYS[2] usage counter qs:{acct}:usage:YYYYMM
-- KEYS[3] attempt       qs:{acct}:attempt:<server-made id>
-- KEYS[4] codes index   qs:{acct}:codes (zset short_id -> created ms)
-- KEYS[5..] one hash per new code, qs:{tok}:q:<short_id> (tok puts it in the account's slot)
-- ARGV[1] n credits  ARGV[2] plans json {code: [quota, overage, max_bulk, max_active, edits]}
-- ARGV[3] usage ttl s   ARGV[4] attempt ttl s   ARGV[5] "1" for a bulk call
-- ARGV[6] account id   ARGV[7] now (ISO 8601)   ARGV[8] now (ms)
-- ARGV[9 + 2i], ARGV[10 + 2i]: name and destination of code i (i from 0)
-- Returns {status, plan, used, quota, active, max_active}. A re-sent call with the same
-- attempt id returns the first answer and changes nothing (redis-py retries by itself); a
-- call arriving after refund.lua voided its attempt returns 'void' and changes nothing.
local prior = redis.call('GET', KEYS[3])
if prior then
  local rec = cjson.decode(prior)
  if rec.s == 'void' then  -- given up on by a refund before this (late) call arrived
    return {'void', '', 0, 0, 0, -1}
  end
  return rec.r
end
local acct = redis.call('HMGET', KEYS[1], 'plan', 'monthly_quota', 'overage', 'active_codes')
local code = acct[1]
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local active = tonumber(acct[4] or '0')
local plans = cjson.decode(ARGV[2])
local p = code and plans[code]
if not p then
  return {'no_account', code or '', used, 0, active, -1}
end
local quota = tonumber(acct[2]) or p[1]
local overage = p[2] == 1
if acct[3] == '1' then overage = true elseif acct[3] == '0' then overage = false end
local n = tonumber(ARGV[1])
local k = #KEYS - 4
if ARGV[5] == '1' then
  if p[3] == 0 then return {'bulk_disabled', code, used, quota, active, p[4]} end
  if n > p[3] then return {'bulk_cap', code, used, quota, active, p[4]} end
end
if k > 0 and p[4] >= 0 and active + k > p[4] then
  return {'dynamic_cap', code, used, quota, active, p[4]}
end
if n > 0 and (not overage) and used + n > quota then
  return {'quota', code, used, quota, active, p[4]}
end
for i = 5, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    return {'collision', code, used, quota, active, p[4]}
  end
end
if n > 0 then
  used = redis.call('INCRBY', KEYS[2], n)
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
end
local short_ids = {}
for i = 5, #KEYS do
  local short_id = string.match(KEYS[i], ':q:(.+)$')
  local j = 9 + 2 * (i - 5)
  local id = redis.call('HINCRBY', KEYS[1], 'code_seq', 1)
  redis.call('HSET', KEYS[i], 'account', ARGV[6], 'id', id, 'short_id', short_id,
             'name', ARGV[j], 'destination_url', ARGV[j + 1], 'is_active', '1',
             'scan_count', 0, 'destination_changes_count', 0,
             'created_at', ARGV[7], 'updated_at', ARGV[7])
  redis.call('ZADD', KEYS[4], tonumber(ARGV[8]) + i, short_id)
  short_ids[#short_ids + 1] = short_id
end
if k > 0 then
  active = redis.call('HINCRBY', KEYS[1], 'active_codes', k)
end
local result = {'ok', code, used, quota, active, p[4]}
-- t, m and c let the sweeper refund this attempt if its process dies before settling it
redis.call('SET', KEYS[3], cjson.encode({s = 'charged', n = n, r = result, t = tonumber(ARGV[8]),
                                         m = string.match(KEYS[2], ':usage:(%d+)$'),
                                         c = short_ids}), 'EX', tonumber(ARGV[4]))
return result
