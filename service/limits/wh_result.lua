-- Records one delivery attempt: the job is done (delivered, dead-lettered, dropped) or comes
-- back after its backoff; the attempt is logged; the webhook's state follows (failures in a
-- row, auto-disable at the threshold, which also drops it from the account's interest).
-- KEYS[1] qs:{T}:wh:due   KEYS[2] qs:{T}:wh:jobs   KEYS[3] qs:{acct}:webhooks
-- KEYS[4] qs:{acct}:wh:<id>:log   KEYS[5] qs:{T}:wh:interest
-- ARGV[1] job id   ARGV[2] lease token   ARGV[3] 'delivered', 'failed', 'dead_letter' or
-- 'dropped'   ARGV[4] log entry (JSON)   ARGV[5] next attempt ms ('failed')   ARGV[6] now ISO
-- ARGV[7] HTTP status ('' for none)   ARGV[8] disable after this many failures in a row
-- ARGV[9] log size   ARGV[10] account   ARGV[11] '1' when the attempt counts for the webhook
-- Returns the outcome, or 'stale' when the lease is no longer this worker's.
local blob = redis.call('HGET', KEYS[2], ARGV[1])
if not blob then return 'stale' end
local job = cjson.decode(blob)
if job.lease ~= ARGV[2] then return 'stale' end
if ARGV[3] == 'failed' then
  job.attempts = job.attempts + 1
  job.lease = ''
  redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(job))
  redis.call('ZADD', KEYS[1], tonumber(ARGV[5]), ARGV[1])
else
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
end
local sblob = redis.call('HGET', KEYS[3], job.sub)
if not sblob then return ARGV[3] end  -- the webhook was deleted: nothing to log or update
redis.call('LPUSH', KEYS[4], ARGV[4])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[9]) - 1)
if ARGV[3] == 'dropped' or ARGV[11] ~= '1' then return ARGV[3] end
local s = cjson.decode(sblob)
s.last_delivery_at = ARGV[6]
if ARGV[7] == '' then s.last_response_status = cjson.null
else s.last_response_status = tonumber(ARGV[7]) end
local disabled = false
if ARGV[3] == 'delivered' then
  s.consecutive_failures = 0
else
  s.consecutive_failures = s.consecutive_failures + 1
  if s.status == 'active' and s.consecutive_failures >= tonumber(ARGV[8]) then
    s.status = 'disabled'
    disabled = true
  end
end
redis.call('HSET', KEYS[3], job.sub, cjson.encode(s))
if disabled then
  local types = {}
  for _, b in ipairs(redis.call('HVALS', KEYS[3])) do
    local o = cjson.decode(b)
    if o.status == 'active' then
      for _, t in ipairs(o.events) do types[t] = true end
    end
  end
  local wanted = ' '
  for t in pairs(types) do wanted = wanted .. t .. ' ' end
  if wanted == ' ' then redis.call('HDEL', KEYS[5], ARGV[10])
  else redis.call('HSET', KEYS[5], ARGV[10], wanted) end
end
return ARGV[3]
