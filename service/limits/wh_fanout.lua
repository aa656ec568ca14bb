-- Turns one queued event into one delivery job per webhook that wants it, and acknowledges
-- and deletes the stream entry, atomically: a worker that dies before this leaves the entry
-- pending for another to claim; two workers that both hold it fan it out once.
-- KEYS[1] qs:{T}:events   KEYS[2] qs:{acct}:webhooks   KEYS[3] qs:{T}:wh:due
-- KEYS[4] qs:{T}:wh:jobs
-- ARGV[1] group   ARGV[2] entry id   ARGV[3] event type   ARGV[4] the JSON body
-- ARGV[5] event id   ARGV[6] now ms   ARGV[7] webhook id for a test event ('' for any)
-- ARGV[8] account
-- KEYS[5] qs:{acct}:account: an account no longer on a plan in ARGV[9] (' pro agency ... ')
-- gets nothing delivered (its webhooks stay, for when it comes back)
-- KEYS[6] (optional) qs:{acct}:attempt:<id>, the charge that created the event's code: while
-- it is 'charged' (its batch still streaming) the entry stays pending; once 'done' it is
-- fanned out; refunded, voided or expired, it is dropped (the code no longer exists).
-- Returns the number of jobs made, -1 when the entry was already handled, -2 to wait.
if KEYS[6] then
  local rec = redis.call('GET', KEYS[6])
  local state = rec and cjson.decode(rec).s or 'gone'
  if state == 'charged' then return -2 end
  if state ~= 'done' then
    if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
      redis.call('XDEL', KEYS[1], ARGV[2])
    end
    return 0
  end
end
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return -1 end
redis.call('XDEL', KEYS[1], ARGV[2])
local plan = redis.call('HGET', KEYS[5], 'plan')
if not plan or not string.find(ARGV[9], ' ' .. plan .. ' ', 1, true) then return 0 end
local made = 0
for _, blob in ipairs(redis.call('HVALS', KEYS[2])) do
  local s = cjson.decode(blob)
  local wanted = false
  if ARGV[7] ~= '' then
    wanted = s.id == ARGV[7]
  elseif s.status == 'active' then
    for _, t in ipairs(s.events) do
      if t == ARGV[3] then wanted = true end
    end
  end
  if wanted then
    local id = s.id .. ':' .. ARGV[2]
    if redis.call('HEXISTS', KEYS[4], id) == 0 then
      redis.call('HSET', KEYS[4], id, cjson.encode({
        id = id, sub = s.id, account = ARGV[8], event_id = ARGV[5], type = ARGV[3],
        body = ARGV[4], attempts = 0, first = tonumber(ARGV[6]), lease = ''}))
      redis.call('ZADD', KEYS[3], tonumber(ARGV[6]), id)
      made = made + 1
    end
  end
end
return made
