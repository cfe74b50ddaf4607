/**
 * The rate-limit policy kind: named limits (token bucket, sliding window,
 * calendar quota) shared across workers and instances through Redis Lua
 * scripts with per-worker leases (leased-limiter.ts), or enforced per worker
 * when no Redis is configured.
 */
import type { GatewayConfig, RateLimitConfig } from '../../config/types.js';
import type { PolicyEnv, PolicyFactory, PolicyInstance, PolicyProvider, PolicySpec } from '../types.js';
import { LeasedLimiter, StoreCircuit } from './leased-limiter.js';
import { LocalStore } from './local-store.js';
import { RateLimitCounters, registerRateLimitMetrics } from './metrics.js';
import { RateLimitPolicy } from './rate-limit-policy.js';
import { createRedisClient, type RedisClientHandle } from '../../stores/redis-client.js';
import { RedisStore } from './redis-store.js';
import { RequestKey } from './request-key.js';
import type { LimitSpec } from './store.js';
import { checkRateLimit, rateLimitSchema } from './schema.js';

/** The store-facing spec of a configured limit. */
export function limitSpec(l: RateLimitConfig): LimitSpec {
  return { name: l.name, algorithm: l.algorithm, limit: l.limit, windowMs: l.windowMs, burst: Math.max(1, l.burst), period: l.period };
}

/** `spec` sized to one of `holders` processes (at least 1 request). */
export function shareOf(spec: LimitSpec, holders: number): LimitSpec {
  return { ...spec, limit: Math.max(1, Math.floor(spec.limit / holders)), burst: Math.max(1, Math.floor(spec.burst / holders)) };
}

/** How long a starting worker waits for its first Redis connection, ms. */
const STARTUP_WAIT_MS = 2000;

/** Minimum pause between two logged store errors, ms. */
const ERROR_LOG_EVERY_MS = 5000;

class RateLimitProvider implements PolicyProvider {
  private readonly byName = new Map<string, RateLimitPolicy>();
  private readonly limiters: LeasedLimiter[] = [];
  private readonly local = new LocalStore();
  private readonly redis: RedisClientHandle | null;
  private readonly store: RedisStore | null;
  private readonly circuit: StoreCircuit;
  private lastErrorLog = 0;

  constructor(specs: readonly PolicySpec[], config: GatewayConfig, private readonly env: PolicyEnv) {
    const url = config.redis.url;
    const holders = url === null ? env.workers : env.workers * config.redis.instances;
    this.redis = url === null ? null : createRedisClient(url, {
      onStateChange: (state, health) => {
        if (state === 'ready') {
          this.circuit.reset();
          env.logger.info({ store: 'redis' }, 'rate-limit store connected');
        } else if (state === 'down') {
          env.logger.warn({ store: 'redis', reason: health.lastError }, 'rate-limit store unreachable: limits use their onRedisFailure policy');
        }
      },
    });
    this.store = this.redis === null ? null : new RedisStore(this.redis.client, { timeoutMs: config.redis.commandTimeoutMs });
    this.circuit = new StoreCircuit(() => this.redis !== null && this.redis.health.state === 'ready');
    const routeNames = config.routes.map((r) => r.name);
    const counters: RateLimitCounters[] = [];
    for (const ps of specs) {
      const l = ps.config as RateLimitConfig;
      const spec = limitSpec(l);
      const limiter = new LeasedLimiter({
        spec, store: this.store, local: this.local, localSpec: shareOf(spec, holders), holders,
        onStoreFailure: l.onRedisFailure, circuit: this.circuit, now: env.now,
        onStoreError: (err) => this.storeError(err),
      });
      const c = new RateLimitCounters(l.name);
      counters.push(c);
      this.limiters.push(limiter);
      this.byName.set(l.name, new RateLimitPolicy(l, spec, new RequestKey(l.key, config.rateLimitConsumerHeader), limiter, c, routeNames));
    }
    registerRateLimitMetrics(env.registry, {
      counters,
      storeCommands: () => (this.store === null ? 0 : this.store.commands),
      storeFailures: () => this.circuit.failures,
      storeUp: () => (this.redis === null ? null : this.redis.health.state === 'ready' ? 1 : 0),
    });
  }

  instance(spec: PolicySpec): PolicyInstance {
    return this.byName.get(spec.name)!;
  }

  status(): unknown {
    if (this.redis === null) return { store: 'in-process', note: 'no REDIS_URL: each worker enforces its share of every limit' };
    const h = this.redis.health;
    return { store: this.redis.cluster ? 'redis-cluster' : 'redis', state: h.state, since: new Date(h.since).toISOString(), lastError: h.lastError };
  }

  /**
   * Waits for the first Redis connection (and its script loads) up to
   * STARTUP_WAIT_MS, so a worker does not start on the fallback while Redis
   * is merely still connecting; gives up quietly (the fallback then applies
   * until Redis answers).
   */
  async ready(): Promise<void> {
    if (this.store === null || this.redis === null) return;
    const redis = this.redis;
    const deadline = Date.now() + STARTUP_WAIT_MS;
    while (redis.health.state !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (redis.health.state !== 'ready') {
      this.env.logger.warn({ store: 'redis', waitedMs: STARTUP_WAIT_MS }, 'rate-limit store not reachable at startup: limits use their onRedisFailure policy until it is');
      return;
    }
    await this.store.preload().catch((err: unknown) => this.storeError(err));
  }

  async close(): Promise<void> {
    await Promise.all(this.limiters.map((l) => l.close()));
    this.local.close();
    if (this.redis !== null) await this.redis.close();
  }

  private storeError(err: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_EVERY_MS) return;
    this.lastErrorLog = now;
    this.env.logger.warn({ store: 'redis', reason: err instanceof Error ? err.message : String(err) }, 'rate-limit store call failed');
  }
}

/** The `rate-limit` policy kind (registered in ../registry.ts). */
export const rateLimitFactory: PolicyFactory = {
  name: 'rate-limit',
  schema: rateLimitSchema,
  check: checkRateLimit,
  create(specs: readonly PolicySpec[], config: GatewayConfig, env: PolicyEnv): PolicyProvider {
    return new RateLimitProvider(specs, config, env);
  },
};
