-- PATCH of a dynamic QR code by its owner: name, destination_url, is_active.
-- KEYS[1] code hash   KEYS[2] account hash
-- ARGV[1] account id   ARGV[2] now ISO   ARGV[3] name (or '')   ARGV[4] destination (or '')
-- ARGV[5] is_active '1', '0' or ''   ARGV[6] destination edits allowed per code (-1: any)
-- ARGV[7] active codes allowed (-1: any)
-- KEYS[3] event stream qs:{T}:events   KEYS[4] webhook interest qs:{T}:wh:interest
-- Returns {'ok'} or {'missing'} (not this account's), {'edit_limit', n}, {'dynamic_cap', active}
-- A change (name, destination or state) queues dynamic_qr.updated when the account wants it.
local c = redis.call('HMGET', KEYS[1], 'account', 'is_active', 'destination_changes_count',
                     'destination_url')
if c[1] ~= ARGV[1] then return {'missing'} end
local edits = tonumber(c[3] or '0')
local changed = {}
local changes_destination = ARGV[4] ~= '' and ARGV[4] ~= c[4]
if changes_destination and tonumber(ARGV[6]) >= 0 and edits >= tonumber(ARGV[6]) then
  return {'edit_limit', edits}
end
if ARGV[5] == '1' and c[2] ~= '1' then
  local active = tonumber(redis.call('HGET', KEYS[2], 'active_codes') or '0')
  if tonumber(ARGV[7]) >= 0 and active + 1 > tonumber(ARGV[7]) then
    return {'dynamic_cap', active}
  end
  redis.call('HINCRBY', KEYS[2], 'active_codes', 1)
  redis.call('HSET', KEYS[1], 'is_active', '1')
  changed[#changed + 1] = 'is_active'
elseif ARGV[5] == '0' and c[2] == '1' then
  redis.call('HINCRBY', KEYS[2], 'active_codes', -1)
  redis.call('HSET', KEYS[1], 'is_active', '0')
  changed[#changed + 1] = 'is_active'
end
if ARGV[3] ~= '' then
  if redis.call('HGET', KEYS[1], 'name') ~= ARGV[3] then changed[#changed + 1] = 'name' end
  redis.call('HSET', KEYS[1], 'name', ARGV[3])
end
if changes_destination then
  redis.call('HSET', KEYS[1], 'destination_url', ARGV[4])
  redis.call('HINCRBY', KEYS[1], 'destination_changes_count', 1)
  changed[#changed + 1] = 'destination_url'
end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[2])
local wanted = redis.call('HGET', KEYS[4], ARGV[1])
if #changed > 0 and wanted and string.find(wanted, ' dynamic_qr.updated ', 1, true) then
  local now = redis.call('HMGET', KEYS[1], 'id', 'short_id', 'name', 'destination_url',
                         'is_active', 'destination_changes_count')
  redis.call('XADD', KEYS[3], '*', 'type', 'dynamic_qr.updated', 'at', ARGV[2],
             'account', ARGV[1], 'data', cjson.encode({
               id = tonumber(now[1]), short_id = now[2], name = now[3],
               destination_url = now[4], is_active = now[5] == '1',
               destination_changes_count = tonumber(now[6]), updated_at = ARGV[2],
               changes = changed}))
end
return {'ok'}
