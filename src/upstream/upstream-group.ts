import type { Pool } from 'undici';
import type { TargetConfig, UpstreamConfig } from '../config/types.js';
import { createBalancer, type Balancer } from './balancers/index.js';
import { ActiveHealthChecker, type HealthTransitionListener } from './health/active-checker.js';
import type { HealthProbeFactory } from './health/health-probe.js';
import { recordPassiveFailure, recordPassiveSuccess } from './health/passive.js';
import { Target, type TargetConnection, type TargetConnector } from './target.js';
import { createUpstreamSecureContext, targetTls, type TargetTls } from './upstream-tls.js';
import { RetryBudget } from './retry/retry-budget.js';
import { CircuitBreaker } from './resilience/circuit-breaker.js';
import { ConcurrencyLimiter } from './resilience/concurrency-limiter.js';
import { nextTargetSet } from './discovery/target-set.js';
import type { ResilienceListener } from './resilience/resilience-listener.js';

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
  /** Workers of the instance: each enforces ceil(limit / workers) of `limits` (default 1). */
  workers?: number;
  /** Circuit breaker transitions and panic mode changes, for logs. */
  resilience?: ResilienceListener;
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
 * The targets of one upstream with their pools, balancer, health state and
 * resilience guards (circuit breaker, concurrency limit: see
 * src/upstream/resilience/; the dispatcher applies them).
 *
 * Panic mode (Envoy's healthy panic threshold, `panicThreshold`, default
 * 50%): when the share of available targets (not ejected by passive health,
 * not failed by active checks) is below the threshold, and always when none
 * is available, `pick` ignores health and balances over every target, so an
 * upstream whose targets were all ejected keeps being tried (a recovered
 * target serves at once instead of after its ejection time) rather than
 * answering 503. Entering and leaving panic is reported once each
 * (`resilience.panic`) and panic picks are counted. With `panicThreshold:
 * 0%` `pick` returns null when no target is available (→ 503). Ejections
 * are bounded (at most 8 x `ejectMs`) and active checks restore targets on
 * their own, so the group always recovers.
 *
 * `P` is the targets' connection type: an undici Pool (the default, http
 * upstreams) or what `options.connect` builds (a gRPC channel).
 */
export class UpstreamGroup<P extends TargetConnection = Pool> {
  /** The upstream's name from the config. */
  readonly name: string;
  /**
   * Targets in config order; `targets[i].index === i`. Fixed for configured
   * targets; service discovery replaces the whole array (with the balancer)
   * through {@link setTargets}, so read it afresh rather than keeping it.
   */
  targets: readonly Target<P>[];
  private readonly config: UpstreamConfig;
  private balancer: Balancer;
  /** Builds the targets that service discovery adds, like the configured ones. */
  private readonly makeTarget: (t: TargetConfig, index: number) => Target<P>;
  /** Targets removed by service discovery whose requests are still in flight. */
  private readonly retiring = new Set<Target<P>>();
  private readonly now: () => number;
  private readonly onEject: EjectionListener | undefined;
  private readonly checker: ActiveHealthChecker | null;
  private closing: Promise<void> | null = null;
  /** Requests in flight to any target of this group (the retry budget's "active requests"). */
  inflight = 0;
  /** Caps the retries in flight to this upstream (see src/upstream/retry/). */
  readonly retryBudget: RetryBudget;
  /** The circuit breaker (null: none configured). */
  readonly breaker: CircuitBreaker | null;
  /** The concurrency limit (null: none configured). */
  readonly limiter: ConcurrencyLimiter | null;
  /** Panic threshold in percent (0: panic mode off). */
  readonly panicThreshold: number;
  /** Whether the latest pick that looked found the group in panic. */
  panicking = false;
  /** Picks made in panic mode. */
  panicPicks = 0;
  private readonly resilience: ResilienceListener | undefined;
  /** Latest end of a passive ejection of any target (group clock). */
  private ejectionsEnd = 0;
  /** Targets the active checker holds unhealthy. */
  private unhealthy = 0;

  /** Use {@link createUpstreamGroup}. */
  constructor(config: UpstreamConfig, options: UpstreamGroupOptions<P> = {}) {
    this.name = config.name;
    this.config = config;
    // One TLS context per upstream (its files are read here, once per worker), for undici pools and gRPC channels alike.
    const context = config.tls !== null ? createUpstreamSecureContext(config.tls) : null;
    const tls = context === null ? null : targetTls(context, config.tls!);
    this.makeTarget = targetMaker<P>(config, options, tls);
    this.targets = config.targets.map(this.makeTarget);
    this.balancer = createBalancer(config.balance, this.targets);
    this.now = options.now ?? Date.now;
    this.onEject = options.onEject;
    const onTransition = options.onTransition;
    this.checker =
      config.healthCheck === null
        ? null
        : new ActiveHealthChecker(this.targets, config.healthCheck, (t, healthy, reason) => {
          this.unhealthy += healthy ? -1 : 1;
          onTransition?.(t, healthy, reason);
        }, options.healthProbe);
    const listener = options.resilience;
    this.resilience = listener;
    this.panicThreshold = config.panicThresholdPercent ?? 0;
    const cb = config.circuitBreaker ?? null;
    this.breaker = cb === null ? null : new CircuitBreaker(config.name, cb, this.now,
      listener === undefined ? undefined : (from, to, reason) => listener.circuitTransition(config.name, from, to, reason));
    const limits = config.limits ?? null;
    this.limiter = limits === null ? null : new ConcurrencyLimiter(config.name, limits, options.workers ?? 1);
    this.checker?.start();
    this.retryBudget = new RetryBudget(config.retryBudget);
  }

  /**
   * Choose a target for one request. Allocation-free.
   * @param hashKey the request's key for `hash` balancing ('' when none); ignored otherwise
   * @returns an available target (any target in panic mode), or null when none is available and panic mode is off (→ 503)
   */
  pick(hashKey = ''): Target<P> | null {
    const now = this.now();
    // why: while no ejection runs and no active check failed, every target is
    // available and panic cannot apply: two comparisons, not a count of the
    // available targets per request.
    if (this.panicThreshold > 0 && (now < this.ejectionsEnd || this.unhealthy > 0 || this.panicking)) return this.pickDegraded(hashKey, now);
    // why: the balancer returns one of `this.targets`, which are Target<P>.
    return this.balancer.pick(this.targets, hashKey, now, false) as Target<P> | null;
  }

  /** `pick` while some target may be unavailable: decides panic mode (reporting changes) and picks. */
  private pickDegraded(hashKey: string, now: number): Target<P> | null {
    const available = this.availableCount(now);
    const panic = this.panicAt(available);
    if (panic !== this.panicking) {
      this.panicking = panic;
      if (this.resilience !== undefined) this.resilience.panic(this.name, panic, available, this.targets.length);
    }
    if (panic) this.panicPicks++;
    return this.balancer.pick(this.targets, hashKey, now, panic) as Target<P> | null;
  }

  /** Whether the group is in panic mode now (admin API; does not report a change). */
  inPanic(): boolean {
    return this.panicAt(this.availableCount(this.now()));
  }

  private panicAt(available: number): boolean {
    // Below the share (none available always counts, for any threshold above 0).
    return this.panicThreshold > 0 && available * 100 < this.panicThreshold * this.targets.length;
  }

  private availableCount(now: number): number {
    let n = 0;
    for (let i = 0; i < this.targets.length; i++) if (this.targets[i].isAvailable(now)) n++;
    return n;
  }

  /** A request to `target` starts (counts towards least-request load). */
  onStart(target: Target): void {
    target.inflight++;
    this.inflight++;
  }

  /** A request to `target` finished, successfully or not. */
  onFinish(target: Target): void {
    if (target.inflight > 0) { target.inflight--; this.inflight--; }
    // why: one field test; only a target removed by service discovery is retired.
    if (target.retired && target.inflight === 0) this.closeRetired(target as Target<P>);
  }

  /**
   * Replace the target set (service discovery). Targets whose URL stays keep
   * their pool, load and health state (a changed weight is taken over); new
   * ones get a pool and, with `healthCheck`, active checks from now on;
   * removed ones drain: never picked again, their in-flight requests finish,
   * then their pool closes. The balancer is rebuilt for the new set (a
   * round-robin restarts its rotation). Runs off the request path, once per
   * change.
   * @param list the new targets (duplicated URLs: the first counts)
   * @returns the URLs added and removed
   */
  setTargets(list: readonly TargetConfig[]): { added: string[]; removed: string[] } {
    const { next, added, removed } = nextTargetSet(this.targets, list, this.makeTarget);
    // why: swapped together, synchronously: a pick never sees a balancer built for another array.
    this.balancer = createBalancer(this.config.balance, next);
    this.targets = next;
    for (const t of added) this.checker?.add(t);
    for (const t of removed) {
      this.checker?.remove(t);
      if (!t.activeHealthy) this.unhealthy--;
      t.retired = true;
      if (t.inflight === 0) this.closeRetired(t);
      else this.retiring.add(t);
    }
    return { added: added.map((t) => t.url), removed: removed.map((t) => t.url) };
  }

  /** Close a retired target's connection (its last request finished). */
  private closeRetired(t: Target<P>): void {
    this.retiring.delete(t);
    t.pool.close().catch(() => undefined);
  }

  /** Whether `pick` could return a target now (without moving the balancer). */
  hasAvailableTarget(): boolean {
    const now = this.now();
    for (const t of this.targets) if (t.isAvailable(now)) return true;
    return false;
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
    if (ejectMs > 0 && target.ejectedUntil > this.ejectionsEnd) this.ejectionsEnd = target.ejectedUntil;
    // A retired target (removed by discovery, draining) is not reported: its metric series is gone.
    if (ejectMs > 0 && this.onEject !== undefined && !target.retired) {
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
    await Promise.all([...this.targets, ...this.retiring].map((t) => t.pool.close()));
  }
}

/** How a group builds a target (configured or discovered): same pool settings, TLS for https:// ones. */
function targetMaker<P extends TargetConnection>(
  config: UpstreamConfig, options: UpstreamGroupOptions<P>, tls: TargetTls | null,
): (t: TargetConfig, index: number) => Target<P> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  return function makeTarget(t, i) {
    return new Target<P>(t, i, config, connectTimeoutMs, options.connect, tls !== null && /^https:/i.test(t.url) ? tls : null);
  };
}

/**
 * Build the group for one upstream: one undici Pool per target (or what
 * `options.connect` builds), the configured balancer, and (when
 * `healthCheck` is set) active checks that start immediately.
 */
export function createUpstreamGroup<P extends TargetConnection = Pool>(config: UpstreamConfig, options?: UpstreamGroupOptions<P>): UpstreamGroup<P> {
  return new UpstreamGroup<P>(config, options);
}
