-- PATCH of a dynamic QR code by its owner: name, destination_url, is_active.
-- KEYS[1] code hash   KEYS[2] account hash
-- ARGV[1] account id   ARGV[2] now ISO   ARGV[3] name (or '')   ARGV[4] destination (or '')
-- ARGV[5] is_active '1', '0' or ''   ARGV[6] destination edits allowed per code (-1: any)
-- ARGV[7] active codes allowed (-1: any)
-- Returns {'ok'} or {'missing'} (not this account's), {'edit_limit', n}, {'dynamic_cap', active}
local c = redis.call('HMGET', KEYS[1], 'account', 'is_active', 'destination_changes_count',
                     'destination_url')
if c[1] ~= ARGV[1] then return {'missing'} end
local edits = tonumber(c[3] or '0')
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
elseif ARGV[5] == '0' and c[2] == '1' then
  redis.call('HINCRBY', KEYS[2], 'active_codes', -1)
  redis.call('HSET', KEYS[1], 'is_active', '0')
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'name', ARGV[3]) end
if changes_destination then
  redis.call('HSET', KEYS[1], 'destination_url', ARGV[4])
  redis.call('HINCRBY', KEYS[1], 'destination_changes_count', 1)
end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[2])
return {'ok'}
