/**
 * The oauth2-introspection policy kind (RFC 7662): bearer tokens checked by
 * asking the authorization server's introspection endpoint, with a bounded
 * per-worker cache of the answers, one call per token however many requests
 * carry it, a bound on concurrent calls, and 503 (never a pass) when the
 * endpoint cannot answer for a token it has not vouched for yet.
 */
import type { GatewayConfig } from '../../config/types.js';
import type { PolicyEnv, PolicyFactory, PolicyInstance, PolicyProvider, PolicySpec } from '../types.js';
import { CallSlots } from './call-slots.js';
import { IntrospectionClient } from './introspection-client.js';
import { IntrospectionPolicy } from './introspection-policy.js';
import { IntrospectionCounters, registerIntrospectionMetrics } from './metrics.js';
import { checkIntrospection, introspectionSchema, type IntrospectionConfig } from './schema.js';
import { resolveSettings } from './settings.js';

/** Minimum pause between two logged endpoint failures of one policy, ms. */
const FAILURE_LOG_EVERY_MS = 5000;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

class IntrospectionProvider implements PolicyProvider {
  private readonly byName = new Map<string, IntrospectionPolicy>();
  private readonly clients: IntrospectionClient[] = [];
  private readonly slots = new Map<string, CallSlots>();
  private readonly lastLog = new Map<string, number>();
  private readonly failures = new Map<string, { failure: string; detail: string; at: number }>();

  constructor(specs: readonly PolicySpec[], private readonly env: PolicyEnv) {
    const counters: IntrospectionCounters[] = [];
    for (const spec of specs) {
      const settings = resolveSettings(spec.config as IntrospectionConfig);
      if (settings.url.protocol === 'http:' && !LOOPBACK.has(settings.url.hostname)) {
        env.logger.warn({ policy: spec.name, url: settings.url.origin },
          'oauth2-introspection endpoint is plain http: tokens and the client secret cross the network unencrypted');
      }
      const client = new IntrospectionClient(settings);
      const slots = new CallSlots(settings.maxInFlight, settings.maxQueued, settings.timeoutMs, env.now);
      let policy: IntrospectionPolicy | null = null;
      const c = new IntrospectionCounters(spec.name, () => (policy === null ? 0 : policy.cache.size));
      policy = new IntrospectionPolicy(spec.name, settings, {
        client, slots, counters: c, now: env.now,
        onFailure: (name, failure, detail) => this.failed(name, failure, detail),
      });
      counters.push(c);
      this.clients.push(client);
      this.slots.set(spec.name, slots);
      this.byName.set(spec.name, policy);
    }
    registerIntrospectionMetrics(env.registry, counters);
  }

  instance(spec: PolicySpec): PolicyInstance {
    return this.byName.get(spec.name)!;
  }

  /** Per policy: cached results, calls running and queued, the last endpoint failure. */
  status(): unknown {
    return Object.fromEntries([...this.byName].map(([name, p]) => {
      const f = this.failures.get(p.name);
      return [name, {
        cached: p.cache.size,
        ...this.slots.get(name)!.load,
        lastFailure: f === undefined ? null : { failure: f.failure, detail: f.detail, at: new Date(f.at).toISOString() },
      }];
    }));
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    for (const s of this.slots.values()) s.drain();
    await Promise.all(this.clients.map((c) => c.close()));
  }

  /** Logs an endpoint failure, at most once per FAILURE_LOG_EVERY_MS per policy (never the token). */
  private failed(policy: string, failure: string, detail: string): void {
    const now = Date.now();
    this.failures.set(policy, { failure, detail, at: now });
    if (now - (this.lastLog.get(policy) ?? 0) < FAILURE_LOG_EVERY_MS) return;
    this.lastLog.set(policy, now);
    const msg = failure === 'overloaded'
      ? 'oauth2-introspection: too many unknown tokens at once (maxInFlight + maxQueued); answering 503 auth_provider_unavailable'
      : 'oauth2-introspection endpoint failed; tokens not in the cache get 503 auth_provider_unavailable';
    this.env.logger.warn({ policy, failure, detail }, msg);
  }
}

/** The `oauth2-introspection` policy kind (registered in ../registry.ts). */
export const introspectionFactory: PolicyFactory = {
  name: 'oauth2-introspection',
  schema: introspectionSchema,
  check: checkIntrospection,
  create(specs: readonly PolicySpec[], _config: GatewayConfig, env: PolicyEnv): PolicyProvider {
    return new IntrospectionProvider(specs, env);
  },
};

export type { IntrospectionConfig } from './schema.js';
