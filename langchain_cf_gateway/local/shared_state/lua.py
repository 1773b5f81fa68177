"""The Lua scripts `redis_state` runs in Redis, each one atomic across every worker.

Redis runs a script whole before any other command
(https://redis.io/docs/latest/develop/interact/programmability/eval-intro/), so a count
checked and made by one script cannot be overtaken by another worker's.
"""

from __future__ import annotations

from typing import Final

ADMIT_FIXED: Final = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""
"""KEYS: the window's counter; ARGV: limit, seconds to keep the counter."""

ADMIT_SLIDING: Final = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""
"""KEYS: the gateway's sorted set; ARGV: limit, now, now - interval, a unique member,
seconds to keep the set."""

LIMIT_COUNT: Final = """
local op, window, limit = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[5])
local total = 0
if ARGV[2] == 'sliding' then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[4]) - window)
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    total = total + tonumber(string.match(member, ':(.*)$'))
  end
else
  total = tonumber(redis.call('GET', KEYS[1]) or '0')
end
if op == 'spent' then return tostring(total) end
if op == 'admit' then
  if total + 1 > limit then return '0' end
  limit = 1
end
if ARGV[2] == 'sliding' then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[6] .. ':' .. tostring(limit))
else
  redis.call('INCRBYFLOAT', KEYS[1], limit)
end
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
return '1'
"""
"""KEYS: the counter; ARGV: op (`admit`, `spent`, `add`), technique, window, now,
limit (admit) or amount (add), a unique member. Returns a number as text (Lua's would
be cut to an integer)."""

TAKE_SCRIPT: Final = """
for _, raw in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local s = cjson.decode(raw)
  local used = tonumber(redis.call('HGET', KEYS[2], s.id) or '0')
  if s.times == cjson.null or used < s.times then
    local provider, model = s.provider, s.model
    if (provider == cjson.null or provider == ARGV[1])
        and (model == cjson.null or model == ARGV[2] or model == ARGV[1] .. '/' .. ARGV[2]) then
      if ARGV[3] == '1' and s.policy == cjson.null then return false end
      return {raw, redis.call('HINCRBY', KEYS[2], s.id, 1)}
    end
  end
end
return false
"""
"""KEYS: the scripts list, the used hash; ARGV: provider, model, '1' for a policy only.
The first live script matching gets one use (`ScriptBook.take` / `take_policy`)."""
