/**
 * The primary's view of the rate-limit store: says at startup where limits
 * are enforced, and keeps a connection of its own to Redis so `/readyz`
 * reports the store's state (under `details.rateLimitStore`). Readiness does
 * not depend on it: the gateway keeps serving, on each limit's
 * `onRedisFailure` policy, while Redis is away.
 */
import type { GatewayConfig } from '../../config/types.js';
import type { Logger } from '../../observability/logger.js';
import { createRedisClient, type RedisClientHandle } from '../../stores/redis-client.js';

/** Starts watching; returns a function that stops (closes the connection). */
export function watchRateLimitStore(config: GatewayConfig, details: Map<string, () => unknown>, logger: Logger): () => Promise<void> {
  if (config.rateLimits.length === 0) return async () => {};
  const url = config.redis.url;
  if (url === null) {
    const workers = config.server.workers;
    logger.info({ limits: config.rateLimits.length, workers },
      `rate limits are enforced in-process (no REDIS_URL): each of the ${workers} workers allows 1/${workers} of every limit, and instances do not share counts`);
    details.set('rateLimitStore', () => ({ store: 'in-process', workers }));
    return async () => {};
  }
  const handle: RedisClientHandle = createRedisClient(url, {
    onStateChange: (state, health) => {
      if (state === 'down') logger.warn({ reason: health.lastError }, 'rate-limit store (Redis) unreachable from the primary');
      else if (state === 'ready') logger.info({ store: handle.cluster ? 'redis-cluster' : 'redis' }, 'rate-limit store (Redis) reachable');
    },
  });
  logger.info({ limits: config.rateLimits.length, store: handle.cluster ? 'redis-cluster' : 'redis', instances: config.redis.instances },
    'rate limits are shared through Redis');
  details.set('rateLimitStore', () => ({
    store: handle.cluster ? 'redis-cluster' : 'redis',
    state: handle.health.state,
    since: new Date(handle.health.since).toISOString(),
    lastError: handle.health.lastError,
  }));
  return () => handle.close();
}
