/**
 * The validate kind's metrics, counted in plain numbers per policy and
 * route on the request path and read into prom-client at scrape time:
 * `turnpike_validation_total{route,policy,part,result}` (part: params,
 * query, headers, body; result: passed, failed) and
 * `turnpike_validation_responses_total{route,policy,result}` (the response
 * monitor; result: valid, mismatch, skipped).
 */
import { Counter, type Registry } from 'prom-client';
import type { RequestContext } from '../../ingress/request-context.js';

/** Parts, in counter order. */
export const PARTS = ['params', 'query', 'headers', 'body'] as const;
export const PART_PARAMS = 0;
export const PART_QUERY = 1;
export const PART_HEADERS = 2;
export const PART_BODY = 3;
/** Response monitor results, in counter order. */
export const RESPONSE_RESULTS = ['valid', 'mismatch', 'skipped'] as const;
export const RESPONSE_VALID = 0;
export const RESPONSE_MISMATCH = 1;
export const RESPONSE_SKIPPED = 2;

/** Slots per route: passed/failed per part, then the response results. */
const SLOTS = PARTS.length * 2 + RESPONSE_RESULTS.length;

/** One policy's counts, per route index. */
export class ValidateCounters {
  /** Per route index (sparse): the counts; `routes[i]` is the route's name. */
  private readonly counts: Array<Float64Array | undefined> = [];
  private readonly routes: string[] = [];

  constructor(readonly policy: string) {}

  private slots(ctx: RequestContext): Float64Array {
    const i = ctx.routeIndex < 0 ? 0 : ctx.routeIndex;
    let c = this.counts[i];
    if (c === undefined) {
      // why: allocated once per route the policy runs on, not per request.
      c = this.counts[i] = new Float64Array(SLOTS);
      this.routes[i] = ctx.route !== null ? ctx.route.name : '';
    }
    return c;
  }

  /** Counts one validated part. */
  part(ctx: RequestContext, part: number, ok: boolean): void {
    this.slots(ctx)[part * 2 + (ok ? 0 : 1)]++;
  }

  /** Counts one response monitor outcome. */
  response(ctx: RequestContext, result: number): void {
    this.slots(ctx)[PARTS.length * 2 + result]++;
  }

  /** Visits every non-zero count. */
  forEach(fn: (route: string, slot: number, value: number) => void): void {
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i];
      if (c === undefined) continue;
      for (let s = 0; s < SLOTS; s++) if (c[s] > 0) fn(this.routes[i], s, c[s]);
    }
  }
}

/** Registers the two counters over every policy's counts. */
export function registerValidateMetrics(registry: Registry, all: readonly ValidateCounters[]): void {
  new Counter({
    name: 'turnpike_validation_total',
    help: 'Request parts validated by validate policies, by route, policy, part (params, query, headers, body) and result (passed, failed).',
    labelNames: ['route', 'policy', 'part', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of all) {
        c.forEach((route, slot, value) => {
          if (slot < PARTS.length * 2) this.inc({ route, policy: c.policy, part: PARTS[slot >> 1], result: (slot & 1) === 0 ? 'passed' : 'failed' }, value);
        });
      }
    },
  });
  new Counter({
    name: 'turnpike_validation_responses_total',
    help: 'Upstream responses checked by a validate policy in monitor mode, by route, policy and result: valid, mismatch (logged; the response is sent unchanged), skipped (not JSON, compressed, over responseLimit, or no schema for the status).',
    labelNames: ['route', 'policy', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of all) {
        c.forEach((route, slot, value) => {
          if (slot >= PARTS.length * 2) this.inc({ route, policy: c.policy, result: RESPONSE_RESULTS[slot - PARTS.length * 2] }, value);
        });
      }
    },
  });
}
