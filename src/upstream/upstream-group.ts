import type { Pool } from 'undici';
import type { UpstreamConfig } from '../config/types.js';
import { createBalancer, type Balancer } from './balancers/index.js';
import { ActiveHealthChecker, type HealthTransitionListener } from './health/active-checker.js';
import type { HealthProbeFactory } from './health/health-probe.js';
import { recordPassiveFailure, recordPassiveSuccess } from './health/passive.js';
import { Target, type TargetConnection, type TargetConnector } from './target.js';
import { createUpstreamSecureContext, targetTls } from './upstream-tls.js';

/**
 * Why a request to a target failed, as far as passive health is concerned
 * (`tls`, a failed handshake or certificate check, counts like `connect`).
 */
export type FailureKind = 'connect' | 'tls' | '5xx' | 'timeout';

/** Called when passive health ejects a target. */
export type EjectionListener = (target: Target, ejectMs: number, reason: string) => void;

/** Optional hooks and test seams for {@link createUpstreamGroup}. */
export interface UpstreamGroupOptions<P extends TargetConnection = Pool> {
  /** TCP connect timeout of the target pools in ms (default 5 s). */
  connectTimeoutMs?: number;
  /** Clock in ms for passive ejection (default `Date.now`); tests inject a fake one. */
  now?: () => number;
  /** Active health check flips (healthy ↔ unhealthy), for logs and metrics. */
  onTransition?: HealthTransitionListener;
  /** Passive ejections, for logs and metrics. */
  onEject?: EjectionListener;
  /**
   * Builds each target's connection (default: an undici Pool sized by
   * `connections`/`keepAliveTimeout`). Upstreams that are not proxied over
   * HTTP/1.1 (grpc) pass their own; the group still closes it.
   */
  connect?: TargetConnector<P>;
  /** How active checks probe a target (default: HTTP GET of `healthCheck.path`). */
  healthProbe?: HealthProbeFactory;
}

/** Per-target state for the admin API and metrics. */
export interface TargetSnapshot {
  url: string;
  weight: number;
  /** Whether `pick` may choose it right now. */
  available: boolean;
  activeHealthy: boolean;
  /** Passive ejection end (ms timestamp of the group clock; 0 = never ejected). */
  ejectedUntil: number;
  inflight: number;
  consecutiveFailures: number;
}

/**
 * The targets of one upstream with their pools, balancer and health state.
 *
 * When every target is unavailable (ejected or actively unhealthy) `pick`
 * returns null and the gateway answers 503: there is no Envoy-style "panic
 * mode" that would spray traffic over known-bad targets. Ejections are
 * bounded (at most 8 x `ejectMs`) and active checks restore targets on their
 * own, so the group always recovers without traffic.
 *
 * `P` is the targets' connection type: an undici Pool (the default, http
 * upstreams) or what `options.connect` builds (a gRPC channel).
 */
export class UpstreamGroup<P extends TargetConnection = Pool> {
  /** The upstream's name from the config. */
  readonly name: string;
  /** Targets in config order; `targets[i].index === i`. */
  readonly targets: readonly Target<P>[];
  private readonly config: UpstreamConfig;
  private readonly balancer: Balancer;
  private readonly now: () => number;
  private readonly onEject: EjectionListener | undefined;
  private readonly checker: ActiveHealthChecker | null;
  private closing: Promise<void> | null = null;

  /** Use {@link createUpstreamGroup}. */
  constructor(config: UpstreamConfig, options: UpstreamGroupOptions<P> = {}) {
    this.name = config.name;
    this.config = config;
    // One TLS context per upstream (its files are read here, once per worker), for undici pools and gRPC channels alike.
    const context = config.tls !== null ? createUpstreamSecureContext(config.tls) : null;
    const tls = context === null ? null : targetTls(context, config.tls!);
    this.targets = config.targets.map((t, i) => new Target<P>(t, i, config, options.connectTimeoutMs ?? 5000, options.connect,
      tls !== null && /^https:/i.test(t.url) ? tls : null));
    this.balancer = createBalancer(config.balance, this.targets);
    this.now = options.now ?? Date.now;
    this.onEject = options.onEject;
    this.checker =
      config.healthCheck === null
        ? null
        : new ActiveHealthChecker(this.targets, config.healthCheck, options.onTransition, options.healthProbe);
    this.checker?.start();
  }

  /**
   * Choose a target for one request. Allocation-free.
   * @param hashKey the request's key for `hash` balancing ('' when none); ignored otherwise
   * @returns an available target, or null when none is available (→ 503)
   */
  pick(hashKey = ''): Target<P> | null {
    // why: the balancer returns one of `this.targets`, which are Target<P>.
    return this.balancer.pick(this.targets, hashKey, this.now()) as Target<P> | null;
  }

  /** A request to `target` starts (counts towards least-request load). */
  onStart(target: Target): void {
    target.inflight++;
  }

  /** A request to `target` finished, successfully or not. */
  onFinish(target: Target): void {
    if (target.inflight > 0) target.inflight--;
  }

  /**
   * The target answered with `status`. Resets the passive failure count and
   * back-off, except that a 5xx counts as a `'5xx'` failure when
   * `passiveHealth.count5xx` is on, so the dispatcher may simply report every
   * response here.
   */
  reportSuccess(target: Target, status: number): void {
    if (status >= 500 && status <= 599 && this.config.passiveHealth.count5xx) {
      this.reportFailure(target, '5xx');
      return;
    }
    recordPassiveSuccess(target);
  }

  /**
   * A request to the target failed. `'5xx'` is ignored unless
   * `passiveHealth.count5xx`. May eject the target (see `recordPassiveFailure`).
   */
  reportFailure(target: Target, kind: FailureKind): void {
    const passive = this.config.passiveHealth;
    if (kind === '5xx' && !passive.count5xx) return;
    const ejectMs = recordPassiveFailure(target, passive, this.now());
    if (ejectMs > 0 && this.onEject !== undefined) {
      this.onEject(target, ejectMs, `${target.consecutiveFailures} consecutive failures (last: ${kind})`);
    }
  }

  /** Per-target state for the admin API and metrics. */
  snapshot(): TargetSnapshot[] {
    const now = this.now();
    return this.targets.map((t) => ({
      url: t.url,
      weight: t.weight,
      available: t.isAvailable(now),
      activeHealthy: t.activeHealthy,
      ejectedUntil: t.ejectedUntil,
      inflight: t.inflight,
      consecutiveFailures: t.consecutiveFailures,
    }));
  }

  /**
   * Stop health checks and close every pool. Pools close gracefully: queued
   * and in-flight requests finish first, so drain (or abort) them before
   * calling this during shutdown. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.checker !== null) await this.checker.close();
    await Promise.all(this.targets.map((t) => t.pool.close()));
  }
}

/**
 * Build the group for one upstream: one undici Pool per target (or what
 * `options.connect` builds), the configured balancer, and (when
 * `healthCheck` is set) active checks that start immediately.
 */
export function createUpstreamGroup<P extends TargetConnection = Pool>(config: UpstreamConfig, options?: UpstreamGroupOptions<P>): UpstreamGroup<P> {
  return new UpstreamGroup<P>(config, options);
}
