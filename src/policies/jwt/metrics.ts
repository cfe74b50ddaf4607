/**
 * The metrics the jwt kind declares. Counted in plain arrays on the request
 * path and read into prom-client at scrape time; labels are the policy name
 * (or the JWKS URL), a fixed outcome and a fixed reason, so their
 * cardinality is bounded by the config.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { FETCH_RESULTS, type JwksSource } from './jwks-source.js';
import { REASONS } from './reasons.js';

/** Outcomes of a request through a jwt policy. */
export const OUTCOMES = ['verified', 'cached', 'refused', 'missing', 'anonymous', 'duplicate', 'unavailable'] as const;

/** Index of each outcome in {@link OUTCOMES}. */
export const enum O { Verified, Cached, Refused, Missing, Anonymous, Duplicate, Unavailable }

/** One policy's counts. */
export class JwtCounters {
  readonly outcomes = OUTCOMES.map(() => 0);
  /** Refusals by reason (index of REASONS). */
  readonly reasons = REASONS.map(() => 0);
  constructor(readonly policy: string) {}
}

/** What the provider reports at scrape time. */
export interface JwtMetricSources {
  counters: readonly JwtCounters[];
  sources: readonly JwksSource[];
  /** Entries in each policy's token cache, by policy name. */
  cacheSizes(): ReadonlyArray<readonly [string, number]>;
}

/**
 * Registers `turnpike_jwt_verifications_total{policy,outcome,reason}`,
 * `turnpike_jwt_jwks_fetches_total{jwks,result}` and
 * `turnpike_jwt_token_cache_entries{policy}`.
 */
export function registerJwtMetrics(registry: Registry, src: JwtMetricSources): void {
  new Counter({
    name: 'turnpike_jwt_verifications_total',
    help: 'Requests through jwt policies by outcome (verified = signature checked now, cached = token cache hit, refused = 401 with reason, missing, anonymous = allowMissing, duplicate, unavailable = 503 no usable keys).',
    labelNames: ['policy', 'outcome', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of src.counters) {
        for (let o = 0; o < OUTCOMES.length; o++) {
          if (o === O.Refused) continue;
          if (c.outcomes[o] > 0) this.inc({ policy: c.policy, outcome: OUTCOMES[o], reason: '' }, c.outcomes[o]);
        }
        for (let r = 0; r < REASONS.length; r++) {
          if (c.reasons[r] > 0) this.inc({ policy: c.policy, outcome: 'refused', reason: REASONS[r] }, c.reasons[r]);
        }
      }
    },
  });
  new Counter({
    name: 'turnpike_jwt_jwks_fetches_total',
    help: 'JWKS fetches by endpoint and result (ok, http_error, timeout, network, invalid).',
    labelNames: ['jwks', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of src.sources) {
        for (let r = 0; r < FETCH_RESULTS.length; r++) if (s.fetches[r] > 0) this.inc({ jwks: s.label, result: FETCH_RESULTS[r] }, s.fetches[r]);
      }
    },
  });
  new Gauge({
    name: 'turnpike_jwt_token_cache_entries',
    help: 'Verified tokens held in each jwt policy\'s cache (summed over workers).',
    labelNames: ['policy'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [policy, n] of src.cacheSizes()) this.set({ policy }, n);
    },
  });
}
