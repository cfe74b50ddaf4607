-- Sliding window (two-window weighted counter), atomically; mirrors
-- slidingWindowTake in algorithms.ts line for line (see its TSDoc). All
-- numbers are integers below 2^53, so doubles are exact. A window's key lives
-- 2W + 1 s (1 s of slack for requests that reach Redis late, as with tiny W).
-- KEYS[1] = tp:rl:{<name>:<key>}:<cur-1>  (previous window's count)
-- KEYS[2] = tp:rl:{<name>:<key>}:<cur>    (current window's count)
-- ARGV = limit, windowMs, n, now (epoch ms, the gateway's clock)
-- Returns {granted, remaining, resetMs, retryAfterMs}.
local limit = tonumber(ARGV[1])
local W = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local cur = math.floor(now / W)
local elapsed = now - cur * W
local counts = redis.call('MGET', KEYS[1], KEYS[2])
local prev = tonumber(counts[1] or '0') or 0
local curr = tonumber(counts[2] or '0') or 0
local before = curr
local available = math.max(0, math.floor((limit * W - prev * (W - elapsed) - curr * W) / W))
local granted, remaining, retry = 0, available, 0
if n > 0 then
  granted = math.min(n, available)
  curr = curr + granted
  remaining = available - granted
  if granted < n then
    -- The earliest wait until one token is free (slidingWindowRetryAfter).
    local room = (limit - 1 - curr) * W
    local found = false
    if room >= 0 and prev > 0 then
      local e = math.max(elapsed, W - math.floor(room / prev))
      if e < W then retry = e - elapsed; found = true end
    end
    if not found then
      local nxt = 0
      if curr > 0 then nxt = math.max(0, W - math.floor(((limit - 1) * W) / curr)) end
      retry = W - elapsed + nxt
    end
  end
elseif n < 0 then
  curr = math.max(0, curr + n)
  remaining = math.max(0, math.floor((limit * W - prev * (W - elapsed) - curr * W) / W))
end
if curr ~= before then
  if curr > 0 then
    redis.call('SET', KEYS[2], string.format('%d', curr), 'PX', string.format('%d', 2 * W + 1000))
  else
    redis.call('DEL', KEYS[2])
  end
end
return {granted, remaining, W - elapsed, retry}
