/**
 * Latency the gateway adds on top of the upstream, percentile by percentile.
 */
import type { LatencyPercentiles } from './latency-percentiles.js';

/**
 * Latency added by the gateway: for each percentile, the gateway run's value
 * minus the direct-to-upstream run's value (same rate, same upstream), in ms,
 * clamped at 0.
 *
 * What it means: "at the same offered load, the p99 request took this much
 * longer through the gateway than without it". It is a difference of two
 * distributions, not the per-request overhead: the p99 of the gateway run and
 * the p99 of the direct run are usually different requests, so the p99 of
 * added latency is NOT the p99 of per-request overhead. A negative difference
 * is run-to-run noise (the gateway cannot make the upstream faster), hence the
 * clamp; treat small values (within the noise of repeated direct runs) as 0.
 *
 * @param gatewayPercentiles Percentiles (ms) of the run through the gateway.
 * @param directPercentiles Percentiles (ms) of the run straight to the upstream.
 * @returns gateway − direct per percentile, in ms, never below 0.
 */
export function addedLatency(
  gatewayPercentiles: LatencyPercentiles,
  directPercentiles: LatencyPercentiles,
): LatencyPercentiles {
  return {
    p50: clampedDiff(gatewayPercentiles.p50, directPercentiles.p50),
    p90: clampedDiff(gatewayPercentiles.p90, directPercentiles.p90),
    p99: clampedDiff(gatewayPercentiles.p99, directPercentiles.p99),
    p99_9: clampedDiff(gatewayPercentiles.p99_9, directPercentiles.p99_9),
    max: clampedDiff(gatewayPercentiles.max, directPercentiles.max),
  };
}

function clampedDiff(a: number, b: number): number {
  const d = a - b;
  return d > 0 ? d : 0;
}
