/**
 * Per-route policy chains, compiled once per worker: the ordered specs of a
 * route resolved to instances, split per phase. A phase no instance of the
 * route implements is null (one null check on the request path).
 */
import type { GatewayConfig, RateLimitConfig, RouteConfig } from '../config/types.js';
import { POLICY_FACTORIES } from './registry.js';
import type { PolicyEnv, PolicyFactory, PolicyInstance, PolicyProvider, PolicySpec } from './types.js';

/** One route's chain: instances per phase (null when none implements it). */
export interface RouteChain {
  /** Every instance name, in run order (for explain output and logs). */
  readonly names: readonly string[];
  readonly access: readonly PolicyInstance[] | null;
  readonly requestBody: readonly PolicyInstance[] | null;
  readonly responseHead: readonly PolicyInstance[] | null;
  readonly responseBody: readonly PolicyInstance[] | null;
  readonly onLog: readonly PolicyInstance[] | null;
}

/** All chains of a worker, indexed by route index, plus the providers behind them. */
export interface CompiledPolicies {
  /** Per route index; null for a route without policies. */
  readonly chains: ReadonlyArray<RouteChain | null>;
  readonly providers: ReadonlyMap<string, PolicyProvider>;
  /** Every provider's status for /readyz details. */
  status(): Record<string, unknown>;
  /** Resolves when every provider is ready (or gave up waiting). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** The spec of a `rateLimits` shorthand entry. */
function rateLimitSpec(config: GatewayConfig, name: string): PolicySpec {
  const i = config.rateLimits.findIndex((l) => l.name === name);
  const l: RateLimitConfig = config.rateLimits[i];
  return { name, kind: 'rate-limit', config: l, at: ['rateLimits', i] };
}

/**
 * The policies that run on `route`, in order: `globalPolicies`, then
 * `globalRateLimits`, then the route's `policies`, then its `rateLimit`
 * shorthand; a policy listed twice runs once, at its first place.
 */
export function routeSpecs(config: GatewayConfig, route: RouteConfig): PolicySpec[] {
  const out: PolicySpec[] = [];
  const seen = new Set<string>();
  const add = (spec: PolicySpec): void => {
    if (seen.has(spec.name)) return;
    seen.add(spec.name);
    out.push(spec);
  };
  for (const n of config.globalPolicies) add(config.policies[n]);
  for (const n of config.globalRateLimits) add(rateLimitSpec(config, n));
  for (const s of route.policies) add(s);
  for (const n of route.rateLimit) add(rateLimitSpec(config, n));
  return out;
}

/** `<kind>:<name>`, the display name of a spec's instance. */
export function instanceName(spec: PolicySpec): string {
  return spec.kind + ':' + spec.name;
}

/** Builds every provider the config uses and compiles each route's chain. */
export function compilePolicies(config: GatewayConfig, env: PolicyEnv, factories: readonly PolicyFactory[] = POLICY_FACTORIES): CompiledPolicies {
  const perRoute = config.routes.map((r) => routeSpecs(config, r));
  // Every spec in use, once (a named policy shared by routes is one instance).
  const byKind = new Map<string, Map<string, PolicySpec>>();
  for (const specs of perRoute) {
    for (const s of specs) {
      let m = byKind.get(s.kind);
      if (m === undefined) byKind.set(s.kind, (m = new Map()));
      m.set(s.name, s);
    }
  }
  const providers = new Map<string, PolicyProvider>();
  const instances = new Map<string, PolicyInstance>();
  for (const f of factories) {
    const specs = byKind.get(f.name);
    if (specs === undefined) continue;
    const p = f.create([...specs.values()], config, env);
    providers.set(f.name, p);
    for (const s of specs.values()) instances.set(s.name, p.instance(s));
  }
  for (const kind of byKind.keys()) if (!providers.has(kind)) throw new Error(`policy kind "${kind}" is not registered`);
  const chains = perRoute.map((specs) => (specs.length === 0 ? null : compileChain(specs.map((s) => instances.get(s.name)!))));
  return {
    chains,
    providers,
    status: () => Object.fromEntries([...providers].map(([name, p]) => [name, p.status()])),
    ready: async () => { await Promise.all([...providers.values()].map((p) => p.ready())); },
    close: async () => { await Promise.all([...providers.values()].map((p) => p.close())); },
  };
}

/** Splits an ordered instance list per phase. */
export function compileChain(all: readonly PolicyInstance[]): RouteChain {
  const pick = (has: (i: PolicyInstance) => boolean): PolicyInstance[] | null => {
    const list = all.filter(has);
    return list.length > 0 ? list : null;
  };
  return {
    names: all.map((i) => i.name),
    access: pick((i) => i.access !== undefined),
    requestBody: pick((i) => i.requestBody !== undefined),
    responseHead: pick((i) => i.responseHead !== undefined),
    responseBody: pick((i) => i.responseBody !== undefined),
    onLog: pick((i) => i.onLog !== undefined),
  };
}
