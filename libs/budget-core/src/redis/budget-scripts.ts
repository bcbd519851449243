import { BATCH_HOLD_PREFIX } from '../domain/hold-kind';

// The Lua scripts that make every balance change atomic in Redis. Per limit there is a
// hash (`used`, `reserved`) and a sorted set of holds (`<key>:holds`, member
// `<reservationId>|<amount>`, score = when the hold lapses); per reservation a hash
// mapping each balance key to the amount held there, so a release knows what to undo.
// Lapsed holds are swept by the next reservation (or balance read) on the same key: no
// reaper job. The sweep that finds a hold lapsed first deletes its record, so each lapse
// is counted once (its other keys' members lapse at the same score and go uncounted).

/** The record of one reservation's holds, the hash the layout above describes. */
export function holdRecordKey(namespace: string, reservationId: string): string {
  return `${namespace}:hold:${reservationId}`;
}

/**
 * Drops the lapsed holds of one balance key and counts, by kind, those whose record it
 * deleted (lapses[1] calls, lapses[2] batches). The record's key is named here, not in
 * KEYS: its reservation id is only known once read off the sorted set.
 */
const SWEEP_BODY = `
local function sweep(bal, now, holdPrefix, lapses)
  local holds = bal .. ':holds'
  local lapsed = redis.call('ZRANGEBYSCORE', holds, '-inf', now)
  if #lapsed == 0 then return end
  local total = 0
  for _, member in ipairs(lapsed) do
    local sep = string.find(member, '|', 1, true)
    total = total + tonumber(string.sub(member, sep + 1))
    local rid = string.sub(member, 1, sep - 1)
    if redis.call('DEL', holdPrefix .. rid) == 1 then
      if string.sub(rid, 1, ${BATCH_HOLD_PREFIX.length}) == '${BATCH_HOLD_PREFIX}' then
        lapses[2] = lapses[2] + 1
      else
        lapses[1] = lapses[1] + 1
      end
    end
  end
  redis.call('HINCRBYFLOAT', bal, 'reserved', -total)
  redis.call('ZREMRANGEBYSCORE', holds, '-inf', now)
end
`;

/**
 * KEYS: balance keys..., hold record. ARGV: now, holdUntil, reservationId, hold record
 * prefix, then per key: amount, limit, expireAt. Replies {1, used, reserved, ...} or
 * {0, index, used, reserved}, then the lapsed holds swept: calls, batches.
 */
export const RESERVE_LUA = `${SWEEP_BODY}
local now = tonumber(ARGV[1])
local holdUntil = tonumber(ARGV[2])
local rid = ARGV[3]
local holdPrefix = ARGV[4]
local n = #KEYS - 1
local holdKey = KEYS[#KEYS]
local current = {}
local lapses = {0, 0}
-- Run again under its id (ioredis resends a command whose connection dropped before the
-- reply): the hold is there already, and counted twice it would outlive its release.
if redis.call('EXISTS', holdKey) == 1 then
  local out = {1}
  for i = 1, n do
    out[#out + 1] = redis.call('HGET', KEYS[i], 'used') or '0'
    out[#out + 1] = redis.call('HGET', KEYS[i], 'reserved') or '0'
  end
  out[#out + 1] = 0
  out[#out + 1] = 0
  return out
end
for i = 1, n do
  local bal = KEYS[i]
  sweep(bal, now, holdPrefix, lapses)
  local used = tonumber(redis.call('HGET', bal, 'used') or '0')
  local reserved = tonumber(redis.call('HGET', bal, 'reserved') or '0')
  local base = 4 + (i - 1) * 3
  local amount = tonumber(ARGV[base + 1])
  local limit = tonumber(ARGV[base + 2])
  if used + reserved + amount > limit then
    return {0, i, tostring(used), tostring(reserved), lapses[1], lapses[2]}
  end
  current[i] = {used, reserved + amount}
end
local out = {1}
local lastExpireAt = 0
for i = 1, n do
  local bal = KEYS[i]
  local base = 4 + (i - 1) * 3
  local amount = ARGV[base + 1]
  local expireAt = ARGV[base + 3]
  redis.call('HINCRBYFLOAT', bal, 'reserved', amount)
  redis.call('ZADD', bal .. ':holds', holdUntil, rid .. '|' .. amount)
  redis.call('HSET', holdKey, bal, amount)
  redis.call('PEXPIREAT', bal, expireAt)
  redis.call('PEXPIREAT', bal .. ':holds', expireAt)
  lastExpireAt = math.max(lastExpireAt, tonumber(expireAt))
  out[#out + 1] = tostring(current[i][1])
  out[#out + 1] = tostring(current[i][2])
end
out[#out + 1] = lapses[1]
out[#out + 1] = lapses[2]
-- Relative: the caller's clock may differ from Redis's. The record outlives the hold and
-- its keys, so a sweep of a lapsed hold still finds it (and counts it) while any is left.
redis.call('PEXPIRE', holdKey, math.max(holdUntil, lastExpireAt) - now + 60000)
return out
`;

/**
 * KEYS: hold records. ARGV: now, holdUntil, then each record's reservation id. Moves the
 * lapse of each hold still in force on to holdUntil (never back), on every balance key
 * it holds, and keeps its record as long. Replies 1 per hold refreshed, 0 for one that
 * is gone (settled, released, swept) or lapsed and not swept yet: that one is left to the
 * sweep, which counts it, rather than brought back. A hold whose balance keys have all
 * expired (a call running past the end of its windows and their grace: a reasoning model,
 * a stream kept open) is still in force: its record is kept, so its settlement finds it.
 * Running it twice changes nothing more.
 */
export const REFRESH_LUA = `
local now = tonumber(ARGV[1])
local holdUntil = tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS do
  local holdKey = KEYS[i]
  local rid = ARGV[2 + i]
  local entries = redis.call('HGETALL', holdKey)
  local lapsed = false
  for j = 1, #entries, 2 do
    local score = redis.call('ZSCORE', entries[j] .. ':holds', rid .. '|' .. entries[j + 1])
    -- Absent: its key's window ended and the key expired; that says nothing of the hold.
    if score and tonumber(score) <= now then lapsed = true end
  end
  if #entries > 0 and not lapsed then
    for j = 1, #entries, 2 do
      local holds = entries[j] .. ':holds'
      local member = rid .. '|' .. entries[j + 1]
      local score = redis.call('ZSCORE', holds, member)
      if score and tonumber(score) < holdUntil then
        redis.call('ZADD', holds, 'XX', holdUntil, member)
      end
    end
    local keep = holdUntil - now + 60000
    if redis.call('PTTL', holdKey) < keep then redis.call('PEXPIRE', holdKey, keep) end
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`;

/**
 * Drops a hold and gives its room back. With `lapseAt`, tells whether the hold was still
 * in force then: its record there and none of its members past its time (a member whose
 * key expired with its window says nothing either way).
 */
const RELEASE_BODY = `
local function release(holdKey, rid, lapseAt)
  local entries = redis.call('HGETALL', holdKey)
  local inForce = #entries > 0
  for j = 1, #entries, 2 do
    local bal = entries[j]
    local amount = entries[j + 1]
    local member = rid .. '|' .. amount
    if lapseAt then
      local score = redis.call('ZSCORE', bal .. ':holds', member)
      if score and tonumber(score) <= lapseAt then inForce = false end
    end
    if redis.call('ZREM', bal .. ':holds', member) == 1 then
      redis.call('HINCRBYFLOAT', bal, 'reserved', -tonumber(amount))
    end
  end
  redis.call('DEL', holdKey)
  return inForce
end
`;

/** KEYS: hold record. ARGV: reservationId. */
export const RELEASE_LUA = `${RELEASE_BODY}
release(KEYS[1], ARGV[1], nil)
return 1
`;

/**
 * KEYS: applied-marker, hold record, balance keys... ARGV: reservationId ('' for none),
 * when the marker expires (ms since epoch), when a hold still there counts as lapsed
 * (ms since epoch), then per balance key: amount, expireAt. Returns {applied, used,
 * reserved, ..., spent before, ..., holdLapsed}: each key's used before the settlement
 * as stored (the string the last one left), and holdLapsed 1 when the settlement named a
 * hold that was gone or past its time (the call outlived it), 0 otherwise and for a
 * redelivery.
 */
export const SETTLE_LUA = `${RELEASE_BODY}
local fresh = redis.call('SET', KEYS[1], '1', 'NX', 'PXAT', ARGV[2])
local out = {fresh and 1 or 0}
local before = {}
local holdLapsed = 0
if fresh and ARGV[1] ~= '' and not release(KEYS[2], ARGV[1], tonumber(ARGV[3])) then
  holdLapsed = 1
end
for i = 3, #KEYS do
  local bal = KEYS[i]
  local base = 3 + (i - 3) * 2
  before[#before + 1] = redis.call('HGET', bal, 'used') or '0'
  if fresh then
    redis.call('HINCRBYFLOAT', bal, 'used', ARGV[base + 1])
    redis.call('PEXPIREAT', bal, ARGV[base + 2])
  end
  out[#out + 1] = redis.call('HGET', bal, 'used') or '0'
  out[#out + 1] = redis.call('HGET', bal, 'reserved') or '0'
end
for _, used in ipairs(before) do out[#out + 1] = used end
out[#out + 1] = holdLapsed
return out
`;

/**
 * KEYS: applied-marker, balance keys... ARGV: when the marker expires (ms since epoch),
 * then per balance key: the credit ('reset' for all of it), expireAt. Returns {applied,
 * used, reserved, ...}. A balance nothing spent against is left absent (no key without an
 * expiry).
 */
export const ADJUST_LUA = `
local fresh = redis.call('SET', KEYS[1], '1', 'NX', 'PXAT', ARGV[1])
local out = {fresh and 1 or 0}
for i = 2, #KEYS do
  local bal = KEYS[i]
  local base = 1 + (i - 2) * 2
  if fresh and redis.call('EXISTS', bal) == 1 then
    local credit = ARGV[base + 1]
    local used = tonumber(redis.call('HGET', bal, 'used') or '0')
    if credit == 'reset' or used - tonumber(credit) <= 1e-9 then
      redis.call('HSET', bal, 'used', '0')
    else
      -- The credit as sent: exact, where used - credit in Lua would round.
      redis.call('HINCRBYFLOAT', bal, 'used', '-' .. credit)
    end
    redis.call('PEXPIREAT', bal, ARGV[base + 2])
  end
  out[#out + 1] = redis.call('HGET', bal, 'used') or '0'
  out[#out + 1] = redis.call('HGET', bal, 'reserved') or '0'
end
return out
`;

/**
 * KEYS: balance keys. ARGV: now, hold record prefix. Sweeps lapsed holds, returns
 * {used, reserved, ...} then the lapsed holds swept: calls, batches.
 */
export const BALANCES_LUA = `${SWEEP_BODY}
local now = tonumber(ARGV[1])
local holdPrefix = ARGV[2]
local lapses = {0, 0}
local out = {}
for i = 1, #KEYS do
  local bal = KEYS[i]
  sweep(bal, now, holdPrefix, lapses)
  out[#out + 1] = redis.call('HGET', bal, 'used') or '0'
  out[#out + 1] = redis.call('HGET', bal, 'reserved') or '0'
end
out[#out + 1] = lapses[1]
out[#out + 1] = lapses[2]
return out
`;
