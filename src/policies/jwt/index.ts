/**
 * The jwt policy kind: verifies JWT bearer tokens (JWS, with jose) against
 * configured keys and/or a JWKS endpoint and sets the request's consumer
 * from the claims (jwt-policy.ts). The provider owns the JWKS sources
 * (shared by policies naming the same endpoint with the same settings),
 * fetches them at worker start (ready) and reports their state (/readyz).
 */
import type { GatewayConfig } from '../../config/types.js';
import type { PolicyEnv, PolicyFactory, PolicyInstance, PolicyProvider, PolicySpec } from '../types.js';
import { checkJwt } from './check.js';
import { JwksSource, type JwksOptions } from './jwks-source.js';
import { JwtPolicy } from './jwt-policy.js';
import { KeyIndex, loadConfiguredKeys } from './keys.js';
import { JwtCounters, registerJwtMetrics } from './metrics.js';
import { jwtSchema, type JwtConfig } from './schema.js';
import { jwtSettings } from './settings.js';

class JwtProvider implements PolicyProvider {
  private readonly byName = new Map<string, JwtPolicy>();
  private readonly sources = new Map<string, JwksSource>();

  constructor(specs: readonly PolicySpec[], private readonly env: PolicyEnv) {
    const counters: JwtCounters[] = [];
    for (const spec of specs) {
      const config = spec.config as JwtConfig;
      const settings = jwtSettings(config);
      const configured = new KeyIndex(loadConfiguredKeys(config.keys ?? []));
      const source = settings.jwks === null ? null : this.source(settings.jwks);
      const c = new JwtCounters(spec.name);
      counters.push(c);
      this.byName.set(spec.name, new JwtPolicy(spec.name, settings, configured, source, c, env.now));
    }
    registerJwtMetrics(env.registry, {
      counters,
      sources: [...this.sources.values()],
      cacheSizes: () => [...this.byName].map(([name, p]) => [name, p.cache.size] as const),
    });
  }

  /** One source per distinct endpoint and settings. */
  private source(o: JwksOptions): JwksSource {
    const key = JSON.stringify(o);
    let s = this.sources.get(key);
    if (s === undefined) {
      s = new JwksSource(o, this.env.now, this.env.logger);
      this.sources.set(key, s);
    }
    return s;
  }

  instance(spec: PolicySpec): PolicyInstance {
    return this.byName.get(spec.name)!;
  }

  status(): unknown {
    if (this.sources.size === 0) return null;
    const now = this.env.now();
    return { jwks: [...this.sources.values()].map((s) => s.status(now)) };
  }

  /** Fetches every JWKS once (each bounded by its timeout); a failure is logged and leaves that set cold. */
  async ready(): Promise<void> {
    await Promise.all([...this.sources.values()].map((s) => s.start()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.sources.values()].map((s) => s.close()));
    for (const p of this.byName.values()) p.cache.clear();
  }
}

/** The `jwt` policy kind (registered in ../registry.ts). */
export const jwtFactory: PolicyFactory = {
  name: 'jwt',
  schema: jwtSchema,
  check: checkJwt,
  create(specs: readonly PolicySpec[], _config: GatewayConfig, env: PolicyEnv): PolicyProvider {
    return new JwtProvider(specs, env);
  },
};

export type { JwtConfig } from './schema.js';
