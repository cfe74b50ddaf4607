import { Client } from 'undici';
import type { ActiveHealthCheckConfig } from '../../config/types.js';
import type { Target } from '../target.js';

/** Called when a target's active health verdict flips. */
export type HealthTransitionListener = (target: Target, healthy: boolean, reason: string) => void;

/** Body bytes read from a health response before the connection is dropped instead. */
const MAX_DRAIN_BYTES = 64 * 1024;

/** Per-target probe state. */
interface Probe {
  readonly target: Target;
  /**
   * A dedicated single-connection client, NOT the target's request pool:
   * under load the pool's connections are all busy and a check queued behind
   * real traffic would time out and mark a merely busy target unhealthy (a
   * classic cascading failure). A separate keep-alive connection also keeps
   * probing the target's connect path independently of the pool. Cost: one
   * extra socket per target per worker.
   */
  readonly client: Client;
  successes: number;
  failures: number;
  timer: NodeJS.Timeout | null;
  /** Bound once so rescheduling does not create a closure per check. */
  readonly tick: () => void;
}

/**
 * Active HTTP health checking: every `intervalMs` (±10% jitter so workers
 * and targets do not probe in lock-step; the first round runs immediately
 * on `start()`), `GET <path>` each target with a `timeoutMs` deadline covering
 * connect, headers and body. A status within `expectStatus` is a success;
 * anything else, an error or the deadline is a failure. `unhealthyThreshold`
 * consecutive failures set `target.activeHealthy = false`,
 * `healthyThreshold` consecutive successes set it back to true. Checks of one
 * target never overlap (the next is scheduled when the previous ends). Timers
 * are unref()ed, so checks never keep the process alive.
 */
export class ActiveHealthChecker {
  private readonly config: ActiveHealthCheckConfig;
  private readonly probes: Probe[];
  private readonly onTransition: HealthTransitionListener | undefined;
  private started = false;
  private closed = false;

  /**
   * @param targets the targets to probe
   * @param config the upstream's health check settings
   * @param onTransition optional listener for healthy/unhealthy flips
   */
  constructor(targets: readonly Target[], config: ActiveHealthCheckConfig, onTransition?: HealthTransitionListener) {
    this.config = config;
    this.onTransition = onTransition;
    this.probes = targets.map((target) => {
      const probe: Probe = {
        target,
        client: new Client(target.url, {
          pipelining: 1,
          // The per-check abort deadline below covers connect, headers and body;
          // only connect gets its own limit, so a hung dial is abandoned too.
          connect: { timeout: config.timeoutMs },
        }),
        successes: 0,
        failures: 0,
        timer: null,
        tick: () => void this.check(probe),
      };
      return probe;
    });
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
    await Promise.all(this.probes.map((probe) => probe.client.destroy().catch(() => undefined)));
  }

  /** Run one check of one target, apply the result, schedule the next. */
  private async check(probe: Probe): Promise<void> {
    probe.timer = null;
    const { path, timeoutMs, expectStatus } = this.config;
    const abort = new AbortController();
    const deadline = setTimeout(() => abort.abort(), timeoutMs);
    deadline.unref();
    let ok = false;
    let reason: string;
    try {
      const res = await probe.client.request({
        method: 'GET',
        path,
        signal: abort.signal,
        headers: { 'user-agent': 'turnpike-health-check' },
      });
      await res.body.dump({ limit: MAX_DRAIN_BYTES });
      ok = res.statusCode >= expectStatus[0] && res.statusCode <= expectStatus[1];
      reason = `status ${res.statusCode}`;
    } catch (err) {
      const code = describeError(err);
      reason = abort.signal.aborted || code === 'UND_ERR_CONNECT_TIMEOUT' ? `timeout after ${timeoutMs}ms` : `error ${code}`;
    } finally {
      clearTimeout(deadline);
    }
    if (this.closed) return;
    this.apply(probe, ok, reason);
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

/** Short description of a request error: its code when it has one. */
function describeError(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string') return e.code;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}
