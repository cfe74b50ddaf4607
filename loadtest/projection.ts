/**
 * The projection against the seed targets: from the gateway's CPU per
 * request, the cores 100K req/s needs and what a 16-core instance would
 * carry; from the open-loop runs, the added p99 against 10 ms.
 */
import type { Projection, ScenarioRun } from './result-types.js';

/** Seed target: added p99 latency below this, ms. */
export const TARGET_ADDED_P99_MS = 10;
/** Seed target: requests/s per instance. */
export const TARGET_RPS = 100_000;
/** The instance size the throughput target is projected on. */
export const PROJECTION_CORES = 16;

/** An open-loop run the gateway kept up with: ≥ 95 % of the target rate completed, no errors. */
export function isSustained(r: ScenarioRun): boolean {
  if (r.mode !== 'open' || r.rate === null) return false;
  const e = r.errors;
  return r.rps >= 0.95 * r.rate && e.connect + e.timeout + e.status5xx + e.other + e.unfinished === 0;
}

/**
 * Projects one scenario from its gateway runs. CPU per request is the lowest
 * of the closed-loop runs (the gateway saturated: its steady cost per
 * request), or of the open-loop runs when there is no closed-loop run. The
 * projection assumes linear scaling across cores (one worker per core, the
 * kernel sharding connections), which the 1-vs-2-worker runs check on a
 * small box. Latency is judged only at the open-loop rates the gateway
 * sustained (see {@link isSustained}); the others are listed as saturated.
 * Null when there is no gateway run with a CPU measurement.
 */
export function projectScenario(scenario: string, runs: readonly ScenarioRun[]): Projection | null {
  const mine = runs.filter((r) => r.scenario === scenario && r.target === 'turnpike' && r.cpuUsPerRequest !== null && r.requests > 0);
  if (mine.length === 0) return null;
  const closed = mine.filter((r) => r.mode === 'closed');
  const basis = closed.length > 0 ? closed : mine;
  const cpuUs = Math.min(...basis.map((r) => r.cpuUsPerRequest!));
  const open = mine.filter((r) => r.mode === 'open');
  const sustained = open.filter(isSustained);
  const saturatedRates = [...new Set(open.filter((r) => !isSustained(r)).map((r) => r.rate!))].sort((a, b) => a - b);
  const latencyRuns = sustained.length > 0 ? sustained : open.length > 0 ? open : mine;
  const p99Ms = Math.max(...latencyRuns.map((r) => r.latency.p99));
  const added = sustained.filter((r) => r.added !== null).map((r) => r.added!.p99);
  const addedP99Ms = added.length > 0 ? Math.max(...added) : null;
  const maxSustainedRate = sustained.length > 0 ? Math.max(...sustained.map((r) => r.rate!)) : null;
  const projectedRps16Cores = cpuUs > 0 ? (PROJECTION_CORES * 1e6) / cpuUs : Infinity;
  return {
    scenario,
    cpuUsPerRequest: cpuUs,
    coresFor100k: (TARGET_RPS * cpuUs) / 1e6,
    projectedRps16Cores,
    p99Ms,
    addedP99Ms,
    maxSustainedRate,
    saturatedRates,
    // A scenario whose every open-loop rate saturated the gateway fails: no rate met the target.
    // Sustained runs without a direct baseline (a gRPC upstream) cannot be judged.
    latencyPass: addedP99Ms !== null ? addedP99Ms < TARGET_ADDED_P99_MS : open.length > 0 && sustained.length === 0 ? false : null,
    throughputPass: projectedRps16Cores >= TARGET_RPS,
  };
}

function verdict(pass: boolean | null): string {
  return pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL';
}

/** One plain-text line per scenario: CPU per request, cores for 100K req/s, and the two verdicts. */
export function formatProjections(ps: readonly Projection[]): string {
  return ps.map((p) => {
    const added = p.addedP99Ms === null
      ? (p.maxSustainedRate !== null ? `not measurable (no direct baseline; sustained up to ${p.maxSustainedRate} req/s)`
        : p.saturatedRates.length > 0 ? 'none: every open-loop rate saturated the gateway' : 'not measured (no open-loop run)')
      : `${p.addedP99Ms.toFixed(2)} ms (up to ${p.maxSustainedRate} req/s)`;
    const saturated = p.saturatedRates.length > 0 ? `; saturated at ${p.saturatedRates.join(', ')} req/s` : '';
    return `${p.scenario}: ${p.cpuUsPerRequest.toFixed(1)} µs CPU/request → ${p.coresFor100k.toFixed(2)} cores for ${TARGET_RPS / 1000}K req/s, `
      + `${Math.round(p.projectedRps16Cores).toLocaleString('en-US')} req/s projected on ${PROJECTION_CORES} cores [${verdict(p.throughputPass)}]; `
      + `p99 ${p.p99Ms.toFixed(2)} ms, added p99 ${added} vs < ${TARGET_ADDED_P99_MS} ms [${verdict(p.latencyPass)}]${saturated}`;
  }).join('\n');
}
