/**
 * The cache policy kind: an RFC 9111 shared cache for GET/HEAD responses,
 * per worker in memory (LRU by bytes) or shared through Redis, with request
 * coalescing, stale-while-revalidate, stale-if-error, Vary, conditional
 * requests and purges through the admin API (`DELETE /cache`, command
 * `cache-purge` on every worker). See README, "Response cache".
 */
import type { GatewayConfig } from '../../config/types.js';
import { createRedisClient, type RedisClientHandle } from '../../stores/redis-client.js';
import type { PolicyEnv, PolicyFactory, PolicyInstance, PolicyProvider, PolicySpec } from '../types.js';
import { CacheCore } from './cache-core.js';
import { CachePolicy } from './cache-policy.js';
import { MemoryStore } from './memory-store.js';
import { CacheCounters, registerCacheMetrics } from './metrics.js';
import { parsePurgeArgs } from './purge-args.js';
import { RedisStore } from './redis-store.js';
import { Refresher } from './refresher.js';
import { cacheSchema, checkCache, type CacheConfig } from './schema.js';
import { cacheSettings } from './settings.js';
import type { CacheStore } from './store.js';

/** How long a starting worker waits for its first Redis connection, ms. */
const STARTUP_WAIT_MS = 2000;

/** Minimum pause between two logged store errors, ms. */
const ERROR_LOG_EVERY_MS = 5000;

/** What one worker's purge answered. */
export interface PurgeResult {
  /** Records removed in this worker's stores (Redis: removed from the shared store by this worker). */
  readonly purged: number;
  /** Per policy. */
  readonly policies: Record<string, number>;
}

class CacheProvider implements PolicyProvider {
  private readonly byName = new Map<string, CachePolicy>();
  private readonly redis: RedisClientHandle | null;
  private lastErrorLog = 0;

  constructor(specs: readonly PolicySpec[], config: GatewayConfig, private readonly env: PolicyEnv) {
    const all = specs.map((s) => cacheSettings(s.name, s.config as CacheConfig));
    const url = config.redis.url;
    const wantsRedis = all.some((s) => s.store === 'redis');
    if (wantsRedis && url === null) {
      env.logger.error({ policies: all.filter((s) => s.store === 'redis').map((s) => s.policy) },
        'cache store: redis needs redis.url or REDIS_URL; these caches use a per-worker memory store instead');
    }
    this.redis = !wantsRedis || url === null ? null : createRedisClient(url, {
      commandTimeoutMs: config.redis.commandTimeoutMs,
      onStateChange: (state, health) => {
        if (state === 'ready') env.logger.info({ store: 'redis' }, 'cache store connected');
        else if (state === 'down') env.logger.warn({ store: 'redis', reason: health.lastError }, 'cache store unreachable: lookups are misses until it is back');
      },
    });
    const counters: CacheCounters[] = [];
    for (const s of all) {
      const store: CacheStore = s.store === 'redis' && this.redis !== null
        ? new RedisStore(this.redis, s.namespace, (err) => this.storeError(err))
        : new MemoryStore(s.maxSize);
      const c = new CacheCounters(s.policy, store);
      counters.push(c);
      const core = new CacheCore(s, store, c, env.now);
      const refresher = env.upstream === undefined ? null : new Refresher(core, env.upstream, env.logger);
      this.byName.set(s.policy, new CachePolicy('cache:' + s.policy, core, refresher));
    }
    registerCacheMetrics(env.registry, counters);
    env.commands.register('cache-purge', (args) => this.purge(args));
  }

  instance(spec: PolicySpec): PolicyInstance {
    return this.byName.get(spec.name)!;
  }

  /** Purges every (or one) cache policy's store; throws on bad arguments or an unknown policy. */
  async purge(args: Readonly<Record<string, string>>): Promise<PurgeResult> {
    const parsed = parsePurgeArgs(args);
    if (typeof parsed === 'string') throw new Error(parsed);
    if (parsed.policy !== null && !this.byName.has(parsed.policy)) throw new Error(`no cache policy "${parsed.policy}" (defined: ${[...this.byName.keys()].join(', ')})`);
    const policies: Record<string, number> = {};
    let purged = 0;
    for (const [name, p] of this.byName) {
      if (parsed.policy !== null && name !== parsed.policy) continue;
      const n = await p.core.purge(parsed.match);
      policies[name] = n;
      purged += n;
    }
    return { purged, policies };
  }

  status(): unknown {
    const out: Record<string, unknown> = {};
    for (const [name, p] of this.byName) out[name] = p.core.store.status();
    return out;
  }

  /** Waits for the first Redis connection (up to STARTUP_WAIT_MS), so a fresh worker does not start on misses. */
  async ready(): Promise<void> {
    const redis = this.redis;
    if (redis === null) return;
    const deadline = Date.now() + STARTUP_WAIT_MS;
    while (redis.health.state !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (redis.health.state !== 'ready') {
      this.env.logger.warn({ store: 'redis', waitedMs: STARTUP_WAIT_MS }, 'cache store not reachable at startup: lookups are misses until it is');
    }
  }

  async close(): Promise<void> {
    for (const p of this.byName.values()) {
      p.core.fills.close();
      await p.core.store.close();
    }
    if (this.redis !== null) await this.redis.close();
  }

  private storeError(err: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_EVERY_MS) return;
    this.lastErrorLog = now;
    this.env.logger.warn({ store: 'redis', reason: err instanceof Error ? err.message : String(err) }, 'cache store call failed (served as a miss)');
  }
}

/** The `cache` policy kind (registered in ../registry.ts). */
export const cacheFactory: PolicyFactory = {
  name: 'cache',
  schema: cacheSchema,
  check: checkCache,
  create(specs: readonly PolicySpec[], config: GatewayConfig, env: PolicyEnv): PolicyProvider {
    return new CacheProvider(specs, config, env);
  },
};
