import type { ActiveHealthCheckConfig } from '../../config/types.js';
import type { Target } from '../target.js';
import { describeError, httpHealthProbe, type HealthProbe, type HealthProbeFactory, type ProbeResult } from './health-probe.js';

/** Called when a target's active health verdict flips. */
export type HealthTransitionListener = (target: Target, healthy: boolean, reason: string) => void;

/** Per-target probe state. */
interface Probe {
  readonly target: Target;
  /** Runs the checks on a connection of its own (see {@link httpHealthProbe}). */
  readonly probe: HealthProbe;
  successes: number;
  failures: number;
  timer: NodeJS.Timeout | null;
  /** The target left the checker (service discovery removed it): results are dropped, no next check. */
  removed: boolean;
  /** Bound once so rescheduling does not create a closure per check. */
  readonly tick: () => void;
}

/**
 * Active health checking: every `intervalMs` (±10% jitter so workers
 * and targets do not probe in lock-step; the first round runs immediately
 * on `start()`), check each target with a `timeoutMs` deadline. The check
 * is the probe's: by default `GET <path>` covering connect, headers and body,
 * where a status within `expectStatus` is a success and anything else, an
 * error or the deadline is a failure ({@link httpHealthProbe}). `unhealthyThreshold`
 * consecutive failures set `target.activeHealthy = false`,
 * `healthyThreshold` consecutive successes set it back to true. Checks of one
 * target never overlap (the next is scheduled when the previous ends). Timers
 * are unref()ed, so checks never keep the process alive.
 */
export class ActiveHealthChecker {
  private readonly config: ActiveHealthCheckConfig;
  private readonly probes: Probe[];
  private readonly createProbe: HealthProbeFactory;
  private readonly onTransition: HealthTransitionListener | undefined;
  private started = false;
  private closed = false;

  /**
   * @param targets the targets to probe
   * @param config the upstream's health check settings
   * @param onTransition optional listener for healthy/unhealthy flips
   * @param createProbe how a target is checked (default: HTTP GET of `config.path`)
   */
  constructor(
    targets: readonly Target[], config: ActiveHealthCheckConfig, onTransition?: HealthTransitionListener,
    createProbe: HealthProbeFactory = httpHealthProbe,
  ) {
    this.config = config;
    this.onTransition = onTransition;
    this.createProbe = createProbe;
    this.probes = targets.map((target) => this.newProbe(target));
  }

  private newProbe(target: Target): Probe {
    const probe: Probe = {
      target,
      probe: this.createProbe(target, this.config),
      successes: 0,
      failures: 0,
      timer: null,
      removed: false,
      tick: () => void this.check(probe),
    };
    return probe;
  }

  /** Start checking a target added at run time (service discovery); its first check runs now when started. */
  add(target: Target): void {
    if (this.closed) return;
    const probe = this.newProbe(target);
    this.probes.push(probe);
    if (this.started) void this.check(probe);
  }

  /** Stop checking a target removed at run time; a check in flight is aborted by closing its probe. */
  remove(target: Target): void {
    const i = this.probes.findIndex((p) => p.target === target);
    if (i < 0) return;
    const probe = this.probes[i];
    this.probes.splice(i, 1);
    probe.removed = true;
    if (probe.timer !== null) clearTimeout(probe.timer);
    probe.timer = null;
    void probe.probe.close().catch(() => undefined);
  }

  /** Start probing; the first check of every target is sent right away. Idempotent. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    for (const probe of this.probes) void this.check(probe);
  }

  /** Stop all timers and abort in-flight checks. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const probe of this.probes) {
      if (probe.timer !== null) clearTimeout(probe.timer);
      probe.timer = null;
    }
    await Promise.all(this.probes.map((probe) => probe.probe.close().catch(() => undefined)));
  }

  /** Run one check of one target, apply the result, schedule the next. */
  private async check(probe: Probe): Promise<void> {
    probe.timer = null;
    const abort = new AbortController();
    const deadline = setTimeout(() => abort.abort(), this.config.timeoutMs);
    deadline.unref();
    let result: ProbeResult;
    try {
      result = await probe.probe.check(abort.signal);
    } catch (err) {
      result = { ok: false, reason: `error ${describeError(err)}` }; // a probe that broke its contract
    } finally {
      clearTimeout(deadline);
    }
    if (this.closed || probe.removed) return;
    this.apply(probe, result.ok, result.reason);
    const jitter = 0.9 + Math.random() * 0.2;
    probe.timer = setTimeout(probe.tick, Math.max(1, Math.round(this.config.intervalMs * jitter)));
    probe.timer.unref();
  }

  /** Update counters and flip `activeHealthy` when a threshold is reached. */
  private apply(probe: Probe, ok: boolean, reason: string): void {
    const t = probe.target;
    if (ok) {
      probe.failures = 0;
      probe.successes++;
      if (!t.activeHealthy && probe.successes >= this.config.healthyThreshold) {
        t.activeHealthy = true;
        this.onTransition?.(t, true, `${reason} (${probe.successes} consecutive successes)`);
      }
    } else {
      probe.successes = 0;
      probe.failures++;
      if (t.activeHealthy && probe.failures >= this.config.unhealthyThreshold) {
        t.activeHealthy = false;
        this.onTransition?.(t, false, `${reason} (${probe.failures} consecutive failures)`);
      }
    }
  }
}
