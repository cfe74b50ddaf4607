/**
 * An aggregate route compiled once per worker: its calls in dependency
 * order with their templates resolved to capture indices, their upstream's
 * retry policy and hash key spec, the merge table and the metric series.
 */
import type { Histogram } from 'prom-client';
import type { AggregateConfig, GatewayConfig, RouteConfig } from '../config/types.js';
import { keySpec, type KeySpec } from '../forwarding/key-spec.js';
import { compileRetryPolicy, LEGACY_RETRY, type RetryPolicy } from '../upstream/retry/retry-policy.js';
import { AggregateMetrics, CallSeries, RESULTS } from './aggregate-metrics.js';
import { LITERAL, PARAM, REF, parseRef, parseTemplate, type TemplatePart } from './path-template.js';

/** A template part resolved for rendering: LITERAL text, PARAM capture index, REF call index + field path. */
export interface PathPiece {
  readonly kind: number;
  readonly text: string;
  /** PARAM: index into ctx.params; REF: index of the call. */
  readonly index: number;
  readonly path: readonly string[];
}

/** One compiled call. */
export interface CallPlan {
  readonly name: string;
  readonly upstream: string;
  readonly method: string;
  readonly pieces: readonly PathPiece[];
  /** Flat `[name, value, ...]` added to the forwarded headers (replacing same-named ones). */
  readonly headers: readonly string[];
  /** 0 = bounded by the aggregate only. */
  readonly timeoutMs: number;
  readonly optional: boolean;
  /** Indices of the calls it waits for. */
  readonly deps: readonly number[];
  /** Indices of the calls waiting for it. */
  readonly dependents: number[];
  readonly retry: RetryPolicy;
  /** The upstream's `hash` balancing key spec (null for other balancers). */
  readonly hashOn: KeySpec | null;
  readonly series: CallSeries;
}

/** A compiled aggregate. */
export interface AggregatePlan {
  readonly route: string;
  readonly timeoutMs: number;
  readonly calls: readonly CallPlan[];
  /** Calls without dependencies (started at once). */
  readonly roots: readonly number[];
  /** Output keys, JSON-encoded with their colon (`"user":`), the call index and field path of each; null: keyed by call name. */
  readonly mergeKeys: readonly string[];
  readonly mergeCalls: readonly number[];
  readonly mergePaths: ReadonlyArray<readonly string[]>;
  /** A failed optional call fails the aggregate (`partial: fail`). */
  readonly failOnPartial: boolean;
  readonly forwardHeaders: boolean;
  /** Duration histogram children by {@link RESULTS} index. */
  readonly durations: ReadonlyArray<ReturnType<Histogram<'route' | 'result'>['labels']>>;
}

/**
 * Compiles a route's aggregate (the config was checked at load).
 *
 * @param paramNames the route's capture names, as the router compiled them
 */
export function compileAggregate(config: GatewayConfig, route: RouteConfig, agg: AggregateConfig, paramNames: readonly string[], metrics: AggregateMetrics): AggregatePlan {
  const index = new Map<string, number>();
  agg.calls.forEach((c, i) => index.set(c.name, i));
  const calls: CallPlan[] = agg.calls.map((c) => {
    const parts = parseTemplate(c.path);
    if (typeof parts === 'string') throw new Error(`route "${route.name}": aggregate call "${c.name}": ${parts}`);
    const up = config.upstreams[c.upstream];
    return {
      name: c.name, upstream: c.upstream, method: c.method,
      pieces: parts.map((p) => piece(p, paramNames, index)),
      headers: Object.entries(c.headers).flat(),
      timeoutMs: c.timeoutMs, optional: c.optional,
      deps: c.after.map((d) => index.get(d)!),
      dependents: [],
      retry: c.retry === undefined ? LEGACY_RETRY : compileRetryPolicy(c.retry),
      hashOn: up !== undefined && up.balance === 'hash' ? keySpec(up.hashOn) : null,
      series: metrics.call(route.name, c.name),
    };
  });
  calls.forEach((c, i) => { for (const d of c.deps) calls[d].dependents.push(i); });
  const merge = agg.merge ?? agg.calls.map((c) => ({ key: c.name, ref: c.name }));
  const refs = merge.map((m) => parseRef(m.ref));
  return {
    route: route.name,
    timeoutMs: agg.timeoutMs,
    calls,
    roots: calls.map((c, i) => (c.deps.length === 0 ? i : -1)).filter((i) => i >= 0),
    mergeKeys: merge.map((m) => JSON.stringify(m.key) + ':'),
    mergeCalls: refs.map((r) => (typeof r === 'string' ? -1 : index.get(r.text) ?? -1)),
    mergePaths: refs.map((r) => (typeof r === 'string' ? [] : r.path)),
    failOnPartial: agg.partial === 'fail',
    forwardHeaders: agg.forwardHeaders,
    durations: RESULTS.map((r) => metrics.duration.labels(route.name, r)),
  };
}

function piece(p: TemplatePart, paramNames: readonly string[], calls: ReadonlyMap<string, number>): PathPiece {
  if (p.kind === LITERAL) return { kind: LITERAL, text: p.text, index: -1, path: [] };
  if (p.kind === PARAM) {
    const i = paramNames.indexOf(p.text);
    if (i < 0) throw new Error(`path uses :${p.text}, which the route does not capture`);
    return { kind: PARAM, text: p.text, index: i, path: [] };
  }
  return { kind: REF, text: [p.text, ...p.path].join('.'), index: calls.get(p.text)!, path: p.path };
}
