/**
 * The transform kind's metric: bodies by route, policy, side and result,
 * counted in plain numbers on the request path (one array slot per route
 * and outcome) and read into prom-client at scrape time.
 */
import { Counter, type Registry } from 'prom-client';

/** The `result` label values. */
export const RESULTS = ['transformed', 'passed_not_json', 'passed_oversize', 'passed_encoding', 'invalid_json', 'refused_oversize'] as const;
export const TRANSFORMED = 0;
export const PASSED_NOT_JSON = 1;
export const PASSED_OVERSIZE = 2;
export const PASSED_ENCODING = 3;
export const INVALID_JSON = 4;
export const REFUSED_OVERSIZE = 5;

/** Side offsets into a route's counts. */
export const REQUEST = 0;
export const RESPONSE = RESULTS.length;

/** One policy's counts, per route (by route index). */
export class TransformCounters {
  /** Per route index: [request results..., response results...]. */
  private readonly byRoute: Array<Float64Array | undefined> = [];
  private readonly routeNames: string[] = [];

  constructor(readonly policy: string) {}

  /** Counts one body of `route` (side + result: REQUEST + INVALID_JSON, ...). */
  count(routeIndex: number, routeName: string, slot: number): void {
    let c = this.byRoute[routeIndex];
    if (c === undefined) {
      c = this.byRoute[routeIndex] = new Float64Array(2 * RESULTS.length);
      this.routeNames[routeIndex] = routeName;
    }
    c[slot]++;
  }

  /** Every non-zero count: (route, side, result, value). */
  forEach(fn: (route: string, side: string, result: string, n: number) => void): void {
    this.byRoute.forEach((c, i) => {
      if (c === undefined) return;
      for (let s = 0; s < c.length; s++) {
        if (c[s] > 0) fn(this.routeNames[i], s < RESULTS.length ? 'request' : 'response', RESULTS[s % RESULTS.length], c[s]);
      }
    });
  }
}

/** Registers `turnpike_transform_bodies_total{route,policy,side,result}`. */
export function registerTransformMetrics(registry: Registry, counters: readonly TransformCounters[]): void {
  new Counter({
    name: 'turnpike_transform_bodies_total',
    help: 'Bodies seen by transform policies, by route, policy, side (request, response) and result: transformed, passed_not_json (not a JSON content type), '
      + 'passed_oversize (response over maxBody, sent untransformed), passed_encoding (a content coding the gateway does not decode), invalid_json '
      + '(400 invalid_json / 502 upstream_invalid_json), refused_oversize (413, or 502 with oversize: fail).',
    labelNames: ['route', 'policy', 'side', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counters) c.forEach((route, side, result, n) => this.inc({ route, policy: c.policy, side, result }, n));
    },
  });
}
