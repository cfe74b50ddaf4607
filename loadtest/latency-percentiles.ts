/**
 * Latency percentiles in milliseconds, read from an HDR histogram that
 * records microseconds. Shared by the open-loop runner and the reports.
 */
import * as hdr from 'hdr-histogram-js';

/** The percentiles every load-test report shows, in milliseconds. */
export interface LatencyPercentiles {
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
}

/** Highest latency the histograms track: 60 s, in µs. Larger values are clamped to it. */
export const HIGHEST_TRACKABLE_US = 60_000_000;

/**
 * A new latency histogram: values in µs from 1 µs to 60 s, 3 significant
 * digits, pure-JS implementation (no WASM, so nothing to `destroy()`).
 */
export function newLatencyHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/**
 * Records one latency given in milliseconds (fractional) into a µs histogram,
 * rounding to the nearest µs and clamping to [0, 60 s].
 */
export function recordLatencyMs(histogram: hdr.Histogram, ms: number): void {
  let us = Math.round(ms * 1000);
  if (us < 0) us = 0;
  else if (us > HIGHEST_TRACKABLE_US) us = HIGHEST_TRACKABLE_US;
  histogram.recordValue(us);
}

/** p50/p90/p99/p99.9/max of a µs histogram, in ms (all 0 when it is empty). */
export function percentilesMs(histogram: hdr.Histogram): LatencyPercentiles {
  if (histogram.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p99_9: 0, max: 0 };
  const max = histogram.maxValue;
  // why: a percentile is reported as the top of its HDR bucket, which can lie
  // above the recorded max; clamp so p99.9 <= max always holds in reports.
  return {
    p50: Math.min(histogram.getValueAtPercentile(50), max) / 1000,
    p90: Math.min(histogram.getValueAtPercentile(90), max) / 1000,
    p99: Math.min(histogram.getValueAtPercentile(99), max) / 1000,
    p99_9: Math.min(histogram.getValueAtPercentile(99.9), max) / 1000,
    max: max / 1000,
  };
}

/** Percentiles at which the latency curve is sampled for charts (100 = max). */
export const CURVE_PERCENTILES: readonly number[] = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];

/** The latency curve of a µs histogram, ms, at {@link CURVE_PERCENTILES} (empty when the histogram is). */
export function latencyCurveMs(histogram: hdr.Histogram): { percentile: number; ms: number }[] {
  if (histogram.totalCount === 0) return [];
  const max = histogram.maxValue;
  return CURVE_PERCENTILES.map((p) => ({
    percentile: p,
    ms: (p >= 100 ? max : Math.min(histogram.getValueAtPercentile(p), max)) / 1000,
  }));
}
