/**
 * The policy contract. A policy's factory does its work once at config load
 * (validate, precompute, connect) and hands each route the instances that
 * apply to it; per request only the phase methods run.
 *
 * Phases, in request order (Kong/Fastify style; only the ones a policy
 * defines cost anything, and a route without policies runs none):
 * - `access`: after the route matched, before the upstream call. Returns
 *   `undefined` (continue), a {@link GatewayError} (answer with it), or a
 *   Promise of either (the runner awaits only real Promises).
 * - `onLog`: after the response is complete (or the client went away).
 */
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import type { Logger } from '../observability/logger.js';
import type { Registry } from 'prom-client';

/** What a phase returns: continue (undefined), stop with a problem, or a Promise of either. */
export type PhaseResult = GatewayError | undefined | Promise<GatewayError | undefined>;

/** One configured policy, as the request path sees it. */
export interface PolicyInstance {
  /** For logs and explain output, e.g. `rate-limit:per-ip`. */
  readonly name: string;
  access?(ctx: RequestContext): PhaseResult;
  onLog?(ctx: RequestContext): void;
}

/** What a factory gets besides the config. */
export interface PolicyEnv {
  /** Worker processes of this instance (the config's server.workers). */
  readonly workers: number;
  readonly logger: Logger;
  /** The worker's metrics registry; each policy registers the metrics it declares. */
  readonly registry: Registry;
  /** Epoch ms; injectable for tests. */
  readonly now: () => number;
}

/** The policies of one kind, built once per worker from the whole config. */
export interface PolicyProvider {
  /** The instances that apply to `route`, in the order they run. */
  forRoute(route: RouteConfig): PolicyInstance[];
  /** State for `/readyz` details (null when there is nothing to say). */
  status(): unknown;
  /** Resolves when the provider can decide normally (e.g. its store connected) or gave up waiting; never rejects. */
  ready(): Promise<void>;
  /** Releases connections and timers (worker drain). */
  close(): Promise<void>;
}

/** A policy kind: registered with one line in registry.ts. */
export interface PolicyFactory {
  /** Kebab-case kind name, e.g. `rate-limit`. */
  readonly name: string;
  /** Null when the config does not use this kind (it then costs nothing). */
  create(config: GatewayConfig, env: PolicyEnv): PolicyProvider | null;
}
