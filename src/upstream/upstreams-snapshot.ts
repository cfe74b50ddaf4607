import type { TargetConnection } from './target.js';
import type { TargetSnapshot, UpstreamGroup } from './upstream-group.js';
import type { CircuitSnapshot } from './resilience/circuit-breaker.js';
import type { LimiterSnapshot } from './resilience/concurrency-limiter.js';

/** One upstream as a worker reports it to the admin API (`GET /upstreams`). */
export interface UpstreamState {
  protocol: 'http' | 'grpc';
  targets: TargetSnapshot[];
  /** Whether the upstream is in panic mode now (too few available targets: health is ignored). */
  panic: boolean;
  /** The panic threshold in percent (0: panic mode off). */
  panicThreshold: number;
  /** Picks made in panic mode by this worker. */
  panicPicks: number;
  /** The circuit breaker's state (null: none configured). */
  circuitBreaker: CircuitSnapshot | null;
  /** The concurrency limit's state, this worker's share (null: none configured). */
  limits: LimiterSnapshot | null;
}

/** One group's state. */
function groupState(protocol: 'http' | 'grpc', g: UpstreamGroup<TargetConnection>): UpstreamState {
  return {
    protocol,
    targets: g.snapshot(),
    panic: g.inPanic(),
    panicThreshold: g.panicThreshold,
    panicPicks: g.panicPicks,
    circuitBreaker: g.breaker === null ? null : g.breaker.snapshot(),
    limits: g.limiter === null ? null : g.limiter.snapshot(),
  };
}

/**
 * The state of every upstream group of a worker, by upstream name: what the
 * `upstreams` admin command answers.
 */
export function upstreamsSnapshot(
  http: ReadonlyMap<string, UpstreamGroup>, grpc: ReadonlyMap<string, UpstreamGroup<TargetConnection>>,
): Record<string, UpstreamState> {
  const out: Record<string, UpstreamState> = {};
  for (const [name, g] of http) out[name] = groupState('http', g);
  for (const [name, g] of grpc) out[name] = groupState('grpc', g);
  return out;
}
