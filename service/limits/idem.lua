-- Claims an Idempotency-Key for one request (CONTRACT section 5).
-- KEYS[1] qs:{acct}:idem:<sha256 of route and key>
-- ARGV[1] sha256 of the body   ARGV[2] ttl s
-- Returns {'claimed'} (go ahead), {'inflight'}, {'mismatch'} (another body), or
-- {'done', record} (replay the stored result).
local found = redis.call('GET', KEYS[1])
if not found then
  redis.call('SET', KEYS[1], cjson.encode({s = 'inflight', h = ARGV[1]}), 'EX', tonumber(ARGV[2]))
  return {'claimed'}
end
local rec = cjson.decode(found)
if rec.h ~= ARGV[1] then return {'mismatch'} end
if rec.s ~= 'done' then return {'inflight'} end
return {'done', rec.r}
