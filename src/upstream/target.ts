import { Pool } from 'undici';
import type { TargetConfig, UpstreamConfig } from '../config/types.js';
import { preciseConnector } from './precise-connector.js';

/**
 * One target (origin) of an upstream group: its connection pool, its load
 * (in-flight requests) and its health state. Mutated in place by the group,
 * the dispatcher (through the group's `onStart`/`onFinish`/`report*`) and
 * the active checker; never replaced, so references stay valid.
 */
export class Target {
  /** Origin, e.g. `http://127.0.0.1:3001` (no path, no trailing slash). */
  readonly url: string;
  /** Relative weight used by the balancers (> 0). */
  readonly weight: number;
  /** Position in the group's target list (balancers index their own state by it). */
  readonly index: number;
  /** Keep-alive connection pool; the dispatcher calls `pool.dispatch(opts, handler)`. */
  readonly pool: Pool;

  /** Requests currently in flight to this target (group `onStart`/`onFinish`). */
  inflight = 0;
  /** Verdict of the active health checker; true until a check says otherwise. */
  activeHealthy = true;
  /** Passive ejection: unavailable while `now < ejectedUntil` (ms timestamp; 0 = never ejected). */
  ejectedUntil = 0;
  /** Consecutive passive failures since the last success. */
  consecutiveFailures = 0;
  /**
   * Ejections since the last success. Non-zero means the target is on
   * probation ("half-open"): the next failure ejects it again at once, for
   * `ejectMs * min(2^ejections, 8)`.
   */
  ejections = 0;

  /**
   * @param config the target's URL and weight
   * @param index position in the group's target list
   * @param upstream pool sizing and keep-alive settings of the owning upstream
   * @param connectTimeoutMs TCP connect timeout of the pool (ms)
   */
  constructor(
    config: TargetConfig, index: number, upstream: Pick<UpstreamConfig, 'connections' | 'keepAliveTimeoutMs'>,
    connectTimeoutMs = 5000,
  ) {
    this.url = normaliseOrigin(config.url);
    this.weight = config.weight > 0 ? config.weight : 1;
    this.index = index;
    this.pool = new Pool(this.url, {
      connections: upstream.connections,
      keepAliveTimeout: upstream.keepAliveTimeoutMs,
      pipelining: 1,
      // why: undici's connect timeout runs on its coarse fast timers (~1 s late).
      connect: preciseConnector(connectTimeoutMs),
    });
  }

  /** Whether the target may receive requests at time `now` (ms, same clock as `ejectedUntil`). */
  isAvailable(now: number): boolean {
    return this.activeHealthy && now >= this.ejectedUntil;
  }
}

/** Strip a trailing slash so `url + path` never doubles it. */
function normaliseOrigin(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}
