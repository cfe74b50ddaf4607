import { CIRCUIT_STATE_NAMES } from '../../upstream/resilience/circuit-breaker.js';
import type { UpstreamState } from '../../upstream/upstreams-snapshot.js';

/** One worker's answer to the `upstreams` command (as `GET /upstreams` lists it). */
export interface WorkerUpstreams {
  worker: number;
  pid: number | undefined;
  upstreams?: Record<string, UpstreamState>;
  error?: string;
}

/** A target as the dashboard shows it, over every worker that answered. */
export interface TargetView {
  url: string;
  /** Usable (not ejected, not failing active checks) in every worker. */
  available: boolean;
  /** Workers in which it is usable, of those that answered. */
  availableIn: number;
  workers: number;
  /** Requests in flight to it, summed over workers. */
  inflight: number;
}

/** An upstream as the dashboard shows it. */
export interface UpstreamView {
  name: string;
  protocol: 'http' | 'grpc' | null;
  /** The worst breaker state over the workers (open > half-open > closed); null without a breaker. */
  circuit: 'closed' | 'open' | 'half-open' | null;
  /** Some worker is in panic mode for it. */
  panic: boolean;
  targets: TargetView[];
}

const SEVERITY: Record<string, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * Merges the workers' views of their upstream groups: a target is available
 * when every worker may use it, a circuit shows its worst state. Where no
 * worker answered, the aggregated `turnpike_upstream_circuit_state` gauge
 * (`circuitState`: highest over workers) gives the breaker state.
 */
export function mergeUpstreams(answers: readonly WorkerUpstreams[], circuitState: ReadonlyMap<string, number>): Map<string, UpstreamView> {
  const out = new Map<string, UpstreamView>();
  for (const answer of answers) {
    for (const [name, state] of Object.entries(answer.upstreams ?? {})) {
      let view = out.get(name);
      if (view === undefined) {
        view = { name, protocol: state.protocol, circuit: null, panic: false, targets: [] };
        out.set(name, view);
      }
      view.panic ||= state.panic;
      const c = state.circuitBreaker?.state ?? null;
      if (c !== null && (view.circuit === null || SEVERITY[c] > SEVERITY[view.circuit])) view.circuit = c;
      for (const t of state.targets) {
        let target = view.targets.find((x) => x.url === t.url);
        if (target === undefined) {
          target = { url: t.url, available: true, availableIn: 0, workers: 0, inflight: 0 };
          view.targets.push(target);
        }
        target.workers++;
        target.inflight += t.inflight;
        if (t.available) target.availableIn++;
        else target.available = false;
      }
    }
  }
  for (const [name, value] of circuitState) {
    const view = out.get(name);
    const state = CIRCUIT_STATE_NAMES[value] ?? null;
    if (view === undefined) out.set(name, { name, protocol: null, circuit: state, panic: false, targets: [] });
    else if (view.circuit === null) view.circuit = state;
  }
  return out;
}
