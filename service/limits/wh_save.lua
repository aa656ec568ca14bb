-- Creates, patches or deletes one webhook subscription, and recomputes the account's interest
-- (the event types its active webhooks want: the event-emitting scripts read it).
-- KEYS[1] qs:{acct}:webhooks   KEYS[2] qs:{T}:wh:interest (T: the account's slot tag)
-- ARGV[1] account   ARGV[2] webhook id   ARGV[3] 'put', 'patch' or 'delete'   ARGV[4] JSON
-- ('put': the whole record; 'patch': the fields to change)
-- Returns the record as stored, or false when a patch or delete found nothing.
local current = redis.call('HGET', KEYS[1], ARGV[2])
local result = false
if ARGV[3] == 'delete' then
  if not current then return false end
  redis.call('HDEL', KEYS[1], ARGV[2])
  result = current
elseif ARGV[3] == 'put' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
  result = ARGV[4]
else
  if not current then return false end
  local rec = cjson.decode(current)
  for k, v in pairs(cjson.decode(ARGV[4])) do rec[k] = v end
  result = cjson.encode(rec)
  redis.call('HSET', KEYS[1], ARGV[2], result)
end
local types = {}
for _, blob in ipairs(redis.call('HVALS', KEYS[1])) do
  local s = cjson.decode(blob)
  if s.status == 'active' then
    for _, t in ipairs(s.events) do types[t] = true end
  end
end
local wanted = ' '
for t in pairs(types) do wanted = wanted .. t .. ' ' end
if wanted == ' ' then
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[2], ARGV[1], wanted)
end
return result
