-- Token bucket (GCRA), atomically; mirrors tokenBucketTake in algorithms.ts
-- line for line (see its TSDoc for the formulas). All numbers are integers
-- below 2^53, so doubles are exact and results equal the TypeScript ones.
-- KEYS[1] = tp:rl:{<name>:<key>}   value "<tatMs>:<tatTicks>:<tickDen>"
-- ARGV = limit, windowMs, burst, n, now (epoch ms, the gateway's clock)
-- Returns {granted, remaining, resetMs, retryAfterMs}.
local limit = tonumber(ARGV[1])
local T = tonumber(ARGV[2])
local C = math.max(1, tonumber(ARGV[3]))
local n = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
local tau = C * T
local lag = 0
local v = redis.call('GET', KEYS[1])
if v then
  local a, b, d = string.match(v, '^(%-?%d+):(%d+):(%d+)$')
  if a then
    local tatMs, tatTicks = tonumber(a), tonumber(b)
    if tonumber(d) ~= limit then
      if tatTicks > 0 then tatMs = tatMs + 1 end
      tatTicks = 0
    end
    if tatMs >= now then lag = (tatMs - now) * limit + tatTicks end
  end
end
local function clamp(x, lo, hi)
  if x < lo then return lo elseif x > hi then return hi end
  return x
end
local available = clamp(math.floor((tau - lag) / T), 0, C)
local granted, retry = 0, 0
if n > 0 then
  granted = math.min(n, available)
  lag = lag + granted * T
  if granted < n then retry = math.max(0, math.ceil((lag - tau + T) / limit)) end
elseif n < 0 then
  lag = math.max(0, lag + n * T)
end
local remaining = clamp(math.floor((tau - lag) / T), 0, C)
local resetMs = math.ceil(lag / limit)
if granted > 0 or n < 0 then
  if lag == 0 then
    redis.call('DEL', KEYS[1])
  else
    local tat = string.format('%d:%d:%d', now + math.floor(lag / limit), lag % limit, limit)
    redis.call('SET', KEYS[1], tat, 'PX', string.format('%d', resetMs + 1000))
  end
end
return {granted, remaining, resetMs, retry}
