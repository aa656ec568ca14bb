-- Undoes a charged attempt whose stream did not complete, exactly once: gives the credits back
-- and removes the dynamic QR codes the attempt created.
-- KEYS[1] attempt qs:{acct}:attempt:<id>   KEYS[2] the usage counter the charge bumped
-- KEYS[3] account hash   KEYS[4] codes index
-- KEYS[5..] per code: its hash, its referrers hash, its recent scans list
-- ARGV[1] account id   ARGV[2] attempt ttl s
-- Returns 1 when the attempt was undone, 0 when there was nothing (left) to undo. An attempt
-- with no record yet (its charge's reply was lost, or the charge is still on its way) is
-- voided, so that a late charge changes nothing.
local rec = redis.call('GET', KEYS[1])
if not rec then
  redis.call('SET', KEYS[1], cjson.encode({s = 'void'}), 'EX', tonumber(ARGV[2]))
  return 0
end
local r = cjson.decode(rec)
if r.s ~= 'charged' then return 0 end
r.s = 'refunded'
if r.n > 0 then
  redis.call('DECRBY', KEYS[2], r.n)
end
for i = 5, #KEYS, 3 do
  local state = redis.call('HMGET', KEYS[i], 'is_active', 'short_id', 'account')
  if state[2] and state[3] == ARGV[1] then
    if state[1] == '1' then
      redis.call('HINCRBY', KEYS[3], 'active_codes', -1)
    end
    redis.call('ZREM', KEYS[4], state[2])
    redis.call('DEL', KEYS[i], KEYS[i + 1], KEYS[i + 2])
  end
end
redis.call('SET', KEYS[1], cjson.encode(r), 'KEEPTTL')
return 1
