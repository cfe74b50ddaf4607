-- Quota (UTC calendar day/month counter), atomically; mirrors quotaTake in
-- algorithms.ts (see its TSDoc). The period (id in the key, end in ARGV) is
-- computed by the caller, since Redis's Lua has no calendar.
-- KEYS[1] = tp:rl:{<name>:<key>}:<period id, 2026-11-22 or 2026-11>
-- ARGV = limit, n, now (epoch ms, the gateway's clock), period end (epoch ms)
-- Returns {granted, remaining, resetMs, retryAfterMs}.
local limit = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local endMs = tonumber(ARGV[4])
local count = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local before = count
local available = math.max(0, limit - count)
local resetMs = math.max(0, endMs - now)
local granted, retry = 0, 0
if n > 0 then
  granted = math.min(n, available)
  count = count + granted
  if granted < n then retry = resetMs end
elseif n < 0 then
  count = math.max(0, count + n)
end
if count ~= before then
  if count > 0 then
    -- PX relative to the gateway's clock (not PXAT): a skewed Redis clock cannot expire it early.
    redis.call('SET', KEYS[1], string.format('%d', count), 'PX', string.format('%d', resetMs + 3600000))
  else
    redis.call('DEL', KEYS[1])
  end
end
return {granted, math.max(0, limit - count), resetMs, retry}
