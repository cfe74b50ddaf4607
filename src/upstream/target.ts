import { Pool } from 'undici';
import type { TargetConfig, UpstreamConfig } from '../config/types.js';
import { preciseConnector } from './precise-connector.js';
import { dispatchServerName, type TargetTls } from './upstream-tls.js';

/**
 * What a target sends requests through: an undici Pool for http upstreams,
 * a gRPC channel for grpc ones. Owned by the target's group, which closes it.
 */
export interface TargetConnection {
  close(): Promise<void>;
}

/**
 * Builds a target's connection from its origin (`scheme://host:port`) and,
 * for an https:// target, the upstream's TLS settings (null otherwise).
 */
export type TargetConnector<P extends TargetConnection> = (url: string, tls: TargetTls | null) => P;

/**
 * One target (origin) of an upstream group: its connection pool, its load
 * (in-flight requests) and its health state. Mutated in place by the group,
 * the dispatcher (through the group's `onStart`/`onFinish`/`report*`) and
 * the active checker; never replaced, so references stay valid.
 *
 * `P` is the connection type: balancers and health code only use the state
 * and take any `Target`; the group that built it knows `P` (an undici
 * {@link Pool} unless the group was given a connector).
 */
export class Target<P extends TargetConnection = TargetConnection> {
  /** Origin, e.g. `http://127.0.0.1:3001` (no path, no trailing slash). */
  readonly url: string;
  /** Relative weight used by the balancers (> 0); service discovery may change it (the group then rebuilds its balancer). */
  weight: number;
  /**
   * Position in the group's target list (balancers index their own state by
   * it). Service discovery renumbers the targets it keeps when the set
   * changes (the group rebuilds its balancer at the same time).
   */
  index: number;
  /**
   * Removed from its group by service discovery: no longer picked; its
   * connection closes once its last in-flight request finishes (the group's
   * `onFinish`).
   */
  retired = false;
  /**
   * The connection: for http upstreams the keep-alive undici Pool (the
   * dispatcher calls `pool.dispatch(opts, handler)`), otherwise what the
   * group's connector built (a gRPC channel).
   */
  readonly pool: P;
  /** TLS settings of an https:// target (the health probe connects with them too); null for http://. */
  readonly tls: TargetTls | null;
  /**
   * The server name every request to this target carries (the configured
   * `tls.serverName`, else the URL's host), fixed so that undici does not
   * take it from the Host header (see the dispatcher).
   */
  readonly servername: string;

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
   * @param connect builds the connection instead of an undici Pool (non-HTTP upstreams)
   * @param tls TLS settings for an https:// target (null: plain, or undici's defaults)
   */
  constructor(
    config: TargetConfig, index: number, upstream: Pick<UpstreamConfig, 'connections' | 'keepAliveTimeoutMs'> & { tls?: UpstreamConfig['tls'] },
    connectTimeoutMs = 5000, connect?: TargetConnector<P>, tls: TargetTls | null = null,
  ) {
    this.url = normaliseOrigin(config.url);
    this.weight = config.weight > 0 ? config.weight : 1;
    this.index = index;
    this.tls = tls;
    this.servername = dispatchServerName(this.url, upstream.tls ?? null);
    this.pool = connect !== undefined ? connect(this.url, tls) : new Pool(this.url, {
      connections: upstream.connections,
      keepAliveTimeout: upstream.keepAliveTimeoutMs,
      pipelining: 1,
      // why: undici's connect timeout runs on its coarse fast timers (~1 s late).
      connect: preciseConnector(connectTimeoutMs, tls),
    }) as unknown as P;
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
