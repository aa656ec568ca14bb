-- The single atomic step of a batch (CONTRACT section 3); twin of MemoryStore.charge().
-- Checks the plan's caps, the active dynamic QR cap and the monthly quota; charges the credits
-- and creates the batch's dynamic QR codes, or does nothing at all.
-- KEYS[1] account hash  qs:{acct}:account   (plan, monthly_quota, overage, active_codes, code_seq)
-- KEYS[2] usage counter qs:{acct}:usage:YYYYMM
-- KEYS[3] attempt       qs:{acct}:attempt:<server-made id>
-- KEYS[4] codes index   qs:{acct}:codes (zset short_id -> created ms)
-- KEYS[5] event stream  qs:{T}:events   KEYS[6] webhook interest  qs:{T}:wh:interest
--   (T: the account's slot tag, service/webhooks/model.py)
-- KEYS[7..] one hash per new code, qs:{tok}:q:<short_id> (tok puts it in the account's slot)
-- ARGV[1] n credits  ARGV[2] plans json {code: [quota, overage, max_bulk, max_active, edits]}
-- ARGV[3] usage ttl s   ARGV[4] attempt ttl s   ARGV[5] "1" for a bulk call
-- ARGV[6] account id   ARGV[7] now (ISO 8601)   ARGV[8] now (ms)
-- ARGV[9 + 2i], ARGV[10 + 2i]: name and destination of code i (i from 0)
-- Returns {status, plan, used, quota, active, max_active}. A re-sent call with the same
-- attempt id returns the first answer and changes nothing (redis-py retries by itself); a
-- call arriving after refund.lua voided its attempt returns 'void' and changes nothing.
-- Webhook events enter the stream here, for accounts whose webhooks want them:
-- dynamic_qr.created per code (delivered once the attempt is settled 'done'; dropped if it is
-- refunded) and quota.threshold_75 / _100, each once per account and month (account hash
-- fields wh_t75 / wh_t100 hold the month they were decided in).
local prior = redis.call('GET', KEYS[3])
if prior then
  local rec = cjson.decode(prior)
  if rec.s == 'void' then  -- given up on by a refund before this (late) call arrived
    return {'void', '', 0, 0, 0, -1}
  end
  return rec.r
end
local acct = redis.call('HMGET', KEYS[1], 'plan', 'monthly_quota', 'overage', 'active_codes',
                        'code_seq')
local code = acct[1]
local used = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local plans = cjson.decode(ARGV[2])
-- The account hash may be written by another application (README): a field this script could
-- not use is refused by name ('bad_account', the field), never a script error (store.py's
-- parse_account applies the same rules before a request gets here).
if not code or code == '' then
  return {'no_account', '', used, 0, 0, -1}
end
local p = plans[code]
if not p then return {'bad_account', 'plan', used, 0, 0, -1} end
if acct[2] and acct[2] ~= '' and not string.match(acct[2], '^%d+$') then
  return {'bad_account', 'monthly_quota', used, 0, 0, -1}
end
if acct[3] and acct[3] ~= '' and acct[3] ~= '1' and acct[3] ~= '0' then
  return {'bad_account', 'overage', used, 0, 0, -1}
end
for i, field in ipairs({'active_codes', 'code_seq'}) do
  local v = acct[3 + i]
  if v and not string.match(v, '^%-?%d+$') then return {'bad_account', field, used, 0, 0, -1} end
end
local active = tonumber(acct[4] or '0')
local quota = tonumber(acct[2]) or p[1]
local overage = p[2] == 1
if acct[3] == '1' then overage = true elseif acct[3] == '0' then overage = false end
local n = tonumber(ARGV[1])
local k = #KEYS - 6
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
for i = 7, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    return {'collision', code, used, quota, active, p[4]}
  end
end
if n > 0 then
  used = redis.call('INCRBY', KEYS[2], n)
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
end
local wanted = redis.call('HGET', KEYS[6], ARGV[6]) or ''
local attempt_id = string.match(KEYS[3], ':attempt:(.+)$')
local function emit(kind, data, attempt)
  if string.find(wanted, ' ' .. kind .. ' ', 1, true) then
    redis.call('XADD', KEYS[5], '*', 'type', kind, 'at', ARGV[7], 'account', ARGV[6],
               'data', cjson.encode(data), 'attempt', attempt)
  end
end
local month = string.match(KEYS[2], ':usage:(%d+)$')
if n > 0 then
  for _, th in ipairs({75, 100}) do
    local field = 'wh_t' .. th
    if used * 100 >= quota * th and redis.call('HGET', KEYS[1], field) ~= month then
      redis.call('HSET', KEYS[1], field, month)
      emit('quota.threshold_' .. th, {plan = code, monthly_quota = quota,
                                      used_this_month = used, threshold = th, month = month}, '')
    end
  end
end
local short_ids = {}
for i = 7, #KEYS do
  local short_id = string.match(KEYS[i], ':q:(.+)$')
  local j = 9 + 2 * (i - 7)
  local id = redis.call('HINCRBY', KEYS[1], 'code_seq', 1)
  redis.call('HSET', KEYS[i], 'account', ARGV[6], 'id', id, 'short_id', short_id,
             'name', ARGV[j], 'destination_url', ARGV[j + 1], 'is_active', '1',
             'scan_count', 0, 'destination_changes_count', 0,
             'created_at', ARGV[7], 'updated_at', ARGV[7])
  redis.call('ZADD', KEYS[4], tonumber(ARGV[8]) + i, short_id)
  short_ids[#short_ids + 1] = short_id
  emit('dynamic_qr.created', {id = id, short_id = short_id, name = ARGV[j],
                              destination_url = ARGV[j + 1], is_active = true,
                              created_at = ARGV[7]}, attempt_id)
end
if k > 0 then
  active = redis.call('HINCRBY', KEYS[1], 'active_codes', k)
end
local result = {'ok', code, used, quota, active, p[4]}
-- t, m and c let the sweeper refund this attempt if its process dies before settling it
redis.call('SET', KEYS[3], cjson.encode({s = 'charged', n = n, r = result, t = tonumber(ARGV[8]),
                                         m = month,
                                         c = short_ids}), 'EX', tonumber(ARGV[4]))
return result
