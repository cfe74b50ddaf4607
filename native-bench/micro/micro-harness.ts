/**
 * A tiny synchronous micro-benchmark runner: warm up, calibrate a batch size,
 * then per round run batches until `minMs` has elapsed; report the median
 * ops/s over `rounds` rounds and the spread (slowest–fastest round).
 */

/** Options of {@link bench}. */
export interface BenchOptions {
  /** Minimum measured time of one round, in ms. Default 300. */
  minMs?: number;
  /** Number of measured rounds. Default 5. */
  rounds?: number;
  /** Warm-up time before the first round, in ms. Default max(minMs / 2, 5), at most 200. */
  warmupMs?: number;
}

/** What {@link bench} measured for one function. */
export interface BenchResult {
  name: string;
  /** Median ops/s over the rounds. */
  opsPerSec: number;
  /** Slowest round's ops/s. */
  minOpsPerSec: number;
  /** Fastest round's ops/s. */
  maxOpsPerSec: number;
  /** Nanoseconds per op at the median rate. */
  nsPerOp: number;
  /** ops/s of each round, in run order. */
  samples: number[];
  /** Calls per timed batch (chosen by calibration). */
  batchSize: number;
  /** Calls made in the measured rounds (warm-up excluded). */
  totalOps: number;
}

/**
 * Where every result goes so the optimiser cannot drop the benchmarked call
 * as dead code. Exported so it is observably live.
 */
export const benchSink: { last: unknown; calls: number } = { last: undefined, calls: 0 };

type BatchRunner = (fn: () => unknown, n: number, sink: { last: unknown; calls: number }) => void;

// why: a fresh function per benchmark keeps the call site `fn()` monomorphic.
// One shared loop would see every case's closure, go megamorphic after the
// first few, and make later cases look slower than earlier ones. Storing each
// result into an escaping object keeps the calls from being eliminated.
function makeBatchRunner(): BatchRunner {
  return new Function('fn', 'n', 'sink', `
    let last;
    for (let i = 0; i < n; i++) { last = fn(); sink.last = last; }
    sink.calls += n;
  `) as BatchRunner;
}

/** Target duration of one timed batch, so timer cost and resolution stay negligible. */
function batchTargetMs(minMs: number): number {
  return Math.min(Math.max(minMs / 50, 0.5), 10);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function checkOptions(minMs: number, rounds: number, warmupMs: number): void {
  if (!Number.isFinite(minMs) || minMs <= 0) throw new RangeError(`minMs must be a positive number, got ${minMs}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be an integer >= 1, got ${rounds}`);
  if (!Number.isFinite(warmupMs) || warmupMs < 0) throw new RangeError(`warmupMs must be >= 0, got ${warmupMs}`);
}

/**
 * Measures `fn` (synchronous; return its result, which goes to
 * {@link benchSink}). Warms up while doubling the batch size until one batch
 * takes ~minMs/50 (0.5–10 ms), then runs `rounds` rounds of at least `minMs`
 * each.
 *
 * @throws RangeError on a non-positive minMs, rounds < 1 or negative warmupMs
 */
export function bench(name: string, fn: () => unknown, options: BenchOptions = {}): BenchResult {
  const minMs = options.minMs ?? 300;
  const rounds = options.rounds ?? 5;
  const warmupMs = options.warmupMs ?? Math.min(Math.max(minMs / 2, 5), 200);
  checkOptions(minMs, rounds, warmupMs);
  const run = makeBatchRunner();
  const target = batchTargetMs(minMs);

  // Warm-up doubles as calibration.
  let batch = 1;
  const warmStart = performance.now();
  for (;;) {
    const t0 = performance.now();
    run(fn, batch, benchSink);
    const dt = performance.now() - t0;
    if (dt < target && batch < 2 ** 30) batch *= 2;
    else if (performance.now() - warmStart >= warmupMs) break;
  }

  const samples: number[] = [];
  let totalOps = 0;
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const t0 = performance.now();
    let elapsed = 0;
    do {
      run(fn, batch, benchSink);
      ops += batch;
      elapsed = performance.now() - t0;
    } while (elapsed < minMs);
    samples.push(ops / (elapsed / 1000));
    totalOps += ops;
  }
  const med = median(samples);
  return {
    name,
    opsPerSec: med,
    minOpsPerSec: Math.min(...samples),
    maxOpsPerSec: Math.max(...samples),
    nsPerOp: 1e9 / med,
    samples,
    batchSize: batch,
    totalOps,
  };
}

/** Formats a rate with thousands separators (no decimals). */
export function formatOps(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Formats ns/op: one decimal below 100 ns, none above. */
export function formatNs(ns: number): string {
  return ns < 100 ? ns.toFixed(1) : Math.round(ns).toLocaleString('en-US');
}

/**
 * A Markdown table of results: median ops/s, spread (slowest–fastest round
 * and its width relative to the median), ns/op at the median and rounds.
 */
export function formatMicroTable(results: readonly BenchResult[]): string {
  const lines = [
    '| case | ops/s (median) | spread (min–max ops/s) | spread % | ns/op | rounds |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const pct = ((r.maxOpsPerSec - r.minOpsPerSec) / r.opsPerSec) * 100;
    lines.push(`| ${r.name} | ${formatOps(r.opsPerSec)} | ${formatOps(r.minOpsPerSec)}–${formatOps(r.maxOpsPerSec)} | ${pct.toFixed(1)}% | ${formatNs(r.nsPerOp)} | ${r.samples.length} |`);
  }
  return lines.join('\n');
}
