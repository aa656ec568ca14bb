-- Leases the delivery jobs that are due: each is hidden from other workers until the lease
-- ends (longer than the 5 s delivery deadline), and carries the lease's token, which the
-- result must present.
-- KEYS[1] qs:{T}:wh:due   KEYS[2] qs:{T}:wh:jobs
-- ARGV[1] now ms   ARGV[2] lease ms   ARGV[3] at most this many   ARGV[4] lease token prefix
-- Returns the leased jobs (JSON).
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i, id in ipairs(ids) do
  local blob = redis.call('HGET', KEYS[2], id)
  if blob then
    local job = cjson.decode(blob)
    job.lease = ARGV[4] .. ':' .. i
    local encoded = cjson.encode(job)
    redis.call('HSET', KEYS[2], id, encoded)
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), id)
    out[#out + 1] = encoded
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
