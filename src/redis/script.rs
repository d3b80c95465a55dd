//! The Lua scripts that make our read-modify-write operations atomic on
//! Redis (each runs as one step on the server, touching keys of one slot).
//! They are sent with `EVAL`: the server caches them by their SHA1, and a
//! server that restarted or flushed its scripts needs nothing resent.
//!
//! Errors they raise start with a word [`super::plan`] maps to a code:
//! `NOTNUM` (ERR_NOT_A_NUMBER), `UNSAFE` (past 2^53 − 1).

/// incr: KEYS[1] the key; ARGV: the amount, the ttl for a key it creates
/// (ms, or empty), the sliding expiry (ms, or empty). Answers the new
/// number's text. The number is read as JSON would (Lua numbers are the
/// same doubles as JavaScript's) and written back in the shortest text
/// that reads back to it; an existing key keeps its TTL.
pub const INCR: &str = r#"
local v = redis.call('GET', KEYS[1])
local n = 0
if v then
  if not string.match(v, '^%-?%d+%.?%d*[eE]?[%+%-]?%d*$') then return redis.error_reply('NOTNUM the stored value is not a number') end
  n = tonumber(v)
  if not n then return redis.error_reply('NOTNUM the stored value is not a number') end
end
local r = n + tonumber(ARGV[1])
if r ~= r or r == math.huge or r == -math.huge then return redis.error_reply('NOTNUM the result is not a finite number') end
if r > 9007199254740991 or r < -9007199254740991 then return redis.error_reply('UNSAFE beyond 2^53 - 1') end
local s
if r == math.floor(r) then
  s = string.format('%d', r)
else
  s = string.format('%.15g', r)
  if tonumber(s) ~= r then s = string.format('%.16g', r) end
  if tonumber(s) ~= r then s = string.format('%.17g', r) end
end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[1], s, 'PX', ARGV[3])
elseif v then
  redis.call('SET', KEYS[1], s, 'KEEPTTL')
elseif ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], s, 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], s)
end
return s
"#;

/// compareAndSet: KEYS[1] the key; ARGV: '1' with an expected value or '0'
/// for "only if missing", the next value, the expected bytes, the sliding
/// expiry (ms, or empty). Answers 1 when it stored. The key keeps its TTL.
pub const CAS: &str = r#"
local v = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if v ~= ARGV[3] then return 0 end
elseif v then
  return 0
end
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
elseif v then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
"#;

/// lock: KEYS[1] the lock, KEYS[2] its fencing counter (never expires);
/// ARGV: this process's id, the lease (ms). Answers {1, fence} when
/// granted, else {0, ms left of the holder's lease}.
pub const LOCK: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('PTTL', KEYS[1])}
end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'PX', ARGV[2])
return {1, fence}
"#;

/// unlock: KEYS[1] the lock; ARGV: the holder's value (id:fence), the
/// channel waiters listen on. Answers 1 when this holder still had it.
pub const UNLOCK: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], KEYS[1])
  return 1
end
return 0
"#;

/// extend: KEYS[1] the lock; ARGV: the holder's value, the new lease (ms).
pub const EXTEND: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"#;
