import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareResults, formatComparison, metricDelta, type MetricDelta } from './compare.js';
import { parseLoadtestResult } from './result-validate.js';
import { sampleResult, sampleRun } from './sample-result.js';
import type { LoadtestResult } from '../result-types.js';

/** Before: the sample. After: w1 faster and leaner, w2 slower with errors, w4 dropped, w8 added. */
function pair(): [LoadtestResult, LoadtestResult] {
  const before = sampleResult();
  const after = sampleResult();
  after.runs = after.runs.filter((r) => r.workers !== 4);
  after.runs[0] = { ...after.runs[0], rps: 13_000, latency: { ...after.runs[0].latency, p99: 9.5 }, cpuUsPerRequest: 70, rssMiB: 92.3 };
  after.runs[1] = { ...after.runs[1], rps: 20_900, latency: { ...after.runs[1].latency, p50: 5 },
    errors: { ...after.runs[1].errors, timeout: 3 } };
  after.runs.push(sampleRun({ workers: 8 }));
  return [before, after];
}

function delta(ds: MetricDelta[], m: string): MetricDelta {
  return ds.find((d) => d.metric === m)!;
}

test('compareResults matches runs by key and lists runs found on one side only', () => {
  const [b, a] = pair();
  const rows = compareResults(b, a);
  assert.deepEqual(rows.map((r) => [r.label, r.presence]), [
    ['rest-small closed turnpike w1 c64', 'both'],
    ['rest-small closed turnpike w2 c64', 'both'],
    ['rest-small closed turnpike w4 c64', 'only-before'],
    ['rest-small open turnpike w2 c64 @5000/s', 'both'],
    ['rest-small open direct w0 c64 @5000/s', 'both'],
    ['rest-16k closed turnpike w2 c64', 'both'],
    ['rest-small closed turnpike w8 c64', 'only-after'],
  ]);
  assert.deepEqual(rows[2].deltas, []);
  assert.deepEqual(rows[0].deltas.map((d) => d.metric), ['rps', 'p50', 'p99', 'p99_9', 'cpuUsPerRequest', 'rssMiB', 'errors']);
});

test('deltas: absolute and %, more req/s is better, less latency/CPU/RSS/errors is better, > 5 % flagged', () => {
  const rows = compareResults(...pair());
  const w1 = rows[0].deltas;
  const { pct, ...rps } = delta(w1, 'rps');
  assert.deepEqual(rps, { metric: 'rps', before: 12_000, after: 13_000, abs: 1000, verdict: 'better', flagged: true });
  assert.ok(Math.abs(pct! - 25 / 3) < 1e-9);
  assert.equal(delta(w1, 'p99').verdict, 'better');
  assert.ok(Math.abs(delta(w1, 'p99').abs! + 0.4) < 1e-9);
  assert.equal(delta(w1, 'p99').flagged, false, '4 % is not flagged');
  assert.equal(delta(w1, 'cpuUsPerRequest').verdict, 'better');
  assert.equal(delta(w1, 'rssMiB').verdict, 'same');
  const w2 = rows[1].deltas;
  assert.equal(delta(w2, 'rps').verdict, 'worse');
  assert.equal(delta(w2, 'rps').flagged, false);
  assert.equal(delta(w2, 'p50').verdict, 'worse');
  assert.deepEqual(delta(w2, 'errors'), { metric: 'errors', before: 0, after: 3, abs: 3, pct: null, verdict: 'worse', flagged: true });
  const direct = rows[4].deltas;
  assert.equal(delta(direct, 'cpuUsPerRequest').verdict, 'n/a', 'direct runs have no gateway CPU');
  assert.equal(delta(direct, 'errors').verdict, 'same');
  assert.equal(metricDelta('p99', 0, 0, false).pct, 0);
});

test('duplicate keys pair up in order', () => {
  const b = { ...sampleResult(), runs: [sampleRun({ rps: 1 }), sampleRun({ rps: 2 })] };
  const a = { ...sampleResult(), runs: [sampleRun({ rps: 10 }), sampleRun({ rps: 20 }), sampleRun({ rps: 30 })] };
  const rows = compareResults(b, a);
  assert.deepEqual(rows.map((r) => [r.presence, r.deltas[0]?.after ?? null]), [['both', 10], ['both', 20], ['only-after', null]]);
});

test('formatComparison: aligned text with verdicts, ! marks and one-side runs; Markdown variant', () => {
  const rows = compareResults(...pair());
  const text = formatComparison(rows);
  const lines = text.split('\n');
  assert.match(lines[0], /^run\s+metric\s+before\s+after\s+Δ\s+Δ %\s+verdict$/);
  assert.ok(lines.some((l) => /^rest-small closed turnpike w1 c64\s+req\/s\s+12,000\s+13,000\s+\+1,000\s+\+8\.3%\s+better !$/.test(l)), text);
  assert.ok(lines.some((l) => /^\s+p99 ms\s+9\.90\s+9\.50\s+-0\.40\s+-4\.0%\s+better$/.test(l)), 'p99 down is better, unflagged');
  assert.ok(lines.some((l) => /^\s+errors\s+0\s+3\s+\+3\s+new\s+worse !$/.test(l)));
  assert.ok(lines.some((l) => /^\s+CPU µs\/req\s+–\s+–\s+–\s+–\s+n\/a$/.test(l)));
  assert.ok(lines.some((l) => /^rest-small closed turnpike w4 c64\s+only in before$/.test(l)));
  assert.ok(lines.some((l) => /^rest-small closed turnpike w8 c64\s+only in after$/.test(l)));
  assert.match(text, /5 run\(s\) matched; \d+ metric\(s\) worse and \d+ better by more than 5 %/);
  const md = formatComparison(rows, { markdown: true });
  assert.ok(md.startsWith('| run | metric | before | after | Δ | Δ % | verdict |\n|---|'));
  assert.ok(md.includes('| rest-small closed turnpike w1 c64 | req/s | 12,000 | 13,000 | +1,000 | +8.3% | better ! |'));
  assert.ok(md.includes('| rest-small closed turnpike w4 c64 | only in before |'));
});

test('parseLoadtestResult names the file and the field that is wrong', () => {
  const good = JSON.stringify(sampleResult());
  assert.equal(parseLoadtestResult(good, 'a.json').runs.length, 6);
  const bad = (text: string): string => {
    try { parseLoadtestResult(text, 'x.json'); } catch (e) { return (e as Error).message; }
    return 'no error';
  };
  assert.match(bad('{'), /^x\.json: not valid JSON/);
  assert.match(bad('[]'), /^x\.json: expected a JSON object/);
  assert.match(bad(JSON.stringify({ ...sampleResult(), version: 2 })), /^x\.json: "version" is 2, expected 1/);
  assert.match(bad('{"runs":[]}'), /^x\.json: "version" is missing, expected 1/);
  assert.match(bad(JSON.stringify({ version: 1 })), /^x\.json: "runs" is missing, expected an array/);
  const r = sampleResult();
  (r.runs[2] as unknown as Record<string, unknown>).mode = 'fast';
  assert.match(bad(JSON.stringify(r)), /^x\.json: runs\[2\]\.mode is "fast", expected "closed" or "open"/);
  const r2 = sampleResult();
  delete (r2.runs[1].latency as unknown as Record<string, unknown>).p99;
  assert.match(bad(JSON.stringify(r2)), /^x\.json: runs\[1\]\.latency\.p99 is missing, expected a number/);
});
