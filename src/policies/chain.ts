/**
 * Per-route policy chains, compiled once per worker, and the runner of the
 * access phase.
 */
import type { GatewayConfig } from '../config/types.js';
import type { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import { POLICY_FACTORIES } from './registry.js';
import type { PhaseResult, PolicyEnv, PolicyFactory, PolicyInstance, PolicyProvider } from './types.js';

/** One route's chain: instances per phase, null when the phase is empty (so it costs one null check). */
export interface RouteChain {
  readonly access: readonly PolicyInstance[] | null;
  readonly onLog: readonly PolicyInstance[] | null;
}

/** All chains of a worker, indexed by route index, plus the providers behind them. */
export interface CompiledPolicies {
  readonly chains: readonly RouteChain[];
  readonly providers: ReadonlyMap<string, PolicyProvider>;
  /** Every provider's status for /readyz details. */
  status(): Record<string, unknown>;
  /** Resolves when every provider is ready (or gave up waiting). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const EMPTY: RouteChain = Object.freeze({ access: null, onLog: null });

/** Builds every provider the config uses and compiles each route's chain. */
export function compilePolicies(config: GatewayConfig, env: PolicyEnv, factories: readonly PolicyFactory[] = POLICY_FACTORIES): CompiledPolicies {
  const providers = new Map<string, PolicyProvider>();
  for (const f of factories) {
    const p = f.create(config, env);
    if (p !== null) providers.set(f.name, p);
  }
  const chains = config.routes.map((route): RouteChain => {
    const all: PolicyInstance[] = [];
    for (const p of providers.values()) all.push(...p.forRoute(route));
    if (all.length === 0) return EMPTY;
    const access = all.filter((i) => i.access !== undefined);
    const onLog = all.filter((i) => i.onLog !== undefined);
    return { access: access.length > 0 ? access : null, onLog: onLog.length > 0 ? onLog : null };
  });
  return {
    chains,
    providers,
    status: () => Object.fromEntries([...providers].map(([name, p]) => [name, p.status()])),
    ready: async () => { await Promise.all([...providers.values()].map((p) => p.ready())); },
    close: async () => { await Promise.all([...providers.values()].map((p) => p.close())); },
  };
}

/**
 * Runs the access phase from instance `from`: synchronous results are
 * handled in the loop; only a real Promise makes the rest asynchronous.
 */
export function runAccess(chain: readonly PolicyInstance[], ctx: RequestContext, from = 0): PhaseResult {
  for (let i = from; i < chain.length; i++) {
    const r = chain[i].access!(ctx);
    if (r === undefined) continue;
    if (r instanceof Promise) return continueAfter(r, chain, ctx, i + 1);
    return r;
  }
  return undefined;
}

function continueAfter(p: Promise<GatewayError | undefined>, chain: readonly PolicyInstance[], ctx: RequestContext, next: number): Promise<GatewayError | undefined> {
  return p.then((r) => (r !== undefined || next >= chain.length ? r : runAccess(chain, ctx, next)));
}

/** Runs the onLog phase; a throwing policy does not stop the others. */
export function runLog(chain: readonly PolicyInstance[], ctx: RequestContext, onError: (name: string, err: unknown) => void): void {
  for (let i = 0; i < chain.length; i++) {
    try {
      chain[i].onLog!(ctx);
    } catch (err) {
      onError(chain[i].name, err);
    }
  }
}
