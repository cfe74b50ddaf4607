import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bench, benchSink, formatMicroTable, formatNs, formatOps, type BenchResult } from './micro-harness.js';

/** A loop of `n` dependent integer steps; impure (state carried across calls) so it cannot be folded. */
function spin(n: number): () => number {
  let seed = 1;
  return function spinLoop(): number {
    let x = seed;
    for (let i = 0; i < n; i++) x = (Math.imul(x ^ i, 0x9e3779b1) + 1) | 0;
    seed = x;
    return x;
  };
}

test('bench: a 1000-step loop measures roughly 10x slower than a 100-step loop (4x–25x)', () => {
  const opts = { minMs: 40, rounds: 3, warmupMs: 20 };
  const short = bench('spin 100', spin(100), opts);
  const long = bench('spin 1000', spin(1000), opts);
  const ratio = short.opsPerSec / long.opsPerSec;
  assert.ok(ratio >= 4 && ratio <= 25, `ratio ${ratio.toFixed(2)} (100: ${short.opsPerSec}, 1000: ${long.opsPerSec} ops/s)`);
});

test('bench: results are finite, positive and self-consistent; every call reaches the sink', () => {
  const before = benchSink.calls;
  const r = bench('spin 10', spin(10), { minMs: 10, rounds: 4, warmupMs: 5 });
  assert.equal(r.name, 'spin 10');
  assert.equal(r.samples.length, 4);
  for (const v of [r.opsPerSec, r.minOpsPerSec, r.maxOpsPerSec, r.nsPerOp, ...r.samples]) {
    assert.ok(Number.isFinite(v) && v > 0, `not finite/positive: ${v}`);
  }
  assert.ok(r.minOpsPerSec <= r.opsPerSec && r.opsPerSec <= r.maxOpsPerSec);
  assert.ok(Math.abs(r.nsPerOp * r.opsPerSec - 1e9) < 1);
  assert.ok(r.batchSize >= 1 && Number.isInteger(r.batchSize));
  assert.equal(r.totalOps % r.batchSize, 0);
  assert.ok(benchSink.calls - before >= r.totalOps, 'warm-up and measured calls all counted');
  assert.equal(typeof benchSink.last, 'number');
});

test('bench: the median of an even number of rounds lies between the middle samples', () => {
  const r = bench('spin 50', spin(50), { minMs: 5, rounds: 2, warmupMs: 0 });
  assert.equal(r.opsPerSec, (r.samples[0] + r.samples[1]) / 2);
});

test('bench: rejects non-positive minMs, fractional or zero rounds, negative warm-up', () => {
  const fn = spin(1);
  assert.throws(() => bench('x', fn, { minMs: 0 }), RangeError);
  assert.throws(() => bench('x', fn, { minMs: Number.NaN }), RangeError);
  assert.throws(() => bench('x', fn, { rounds: 0 }), RangeError);
  assert.throws(() => bench('x', fn, { rounds: 1.5 }), RangeError);
  assert.throws(() => bench('x', fn, { warmupMs: -1 }), RangeError);
});

test('formatMicroTable: one Markdown row per result with median, spread, percent, ns/op, rounds', () => {
  const rows: BenchResult[] = [
    { name: 'fast', opsPerSec: 2_000_000, minOpsPerSec: 1_900_000, maxOpsPerSec: 2_100_000, nsPerOp: 500, samples: [1_900_000, 2_000_000, 2_100_000], batchSize: 1024, totalOps: 3072 },
    { name: 'slow', opsPerSec: 80_000, minOpsPerSec: 80_000, maxOpsPerSec: 80_000, nsPerOp: 12_500, samples: [80_000], batchSize: 8, totalOps: 8 },
  ];
  const lines = formatMicroTable(rows).split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0], /^\| case \| ops\/s \(median\) \| spread \(min–max ops\/s\) \| spread % \| ns\/op \| rounds \|$/);
  assert.equal(lines[2], '| fast | 2,000,000 | 1,900,000–2,100,000 | 10.0% | 500 | 3 |');
  assert.equal(lines[3], '| slow | 80,000 | 80,000–80,000 | 0.0% | 12,500 | 1 |');
  for (const l of lines) assert.equal(l.split('|').length, 8, l);
});

test('formatOps and formatNs round sensibly', () => {
  assert.equal(formatOps(1234567.6), '1,234,568');
  assert.equal(formatNs(2.345), '2.3');
  assert.equal(formatNs(1234.4), '1,234');
});
