import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { formatMarkdownReport, writeReport } from './markdown-report.js';
import { fileSafe, throughputSeries } from './report-charts.js';
import { formatMachine } from '../../native-bench/machine-info.js';
import { sampleResult, sampleRun } from './sample-result.js';
import { xmlProblem } from './xml-balance.js';

test('markdown report: header, runs table, projections, charts, how to read', () => {
  const r = sampleResult();
  const md = formatMarkdownReport(r, [{ file: 'x-latency-rest-small.svg', title: 'rest-small: latency by percentile' }]);
  assert.match(md, /^# Turnpike load test\n/);
  assert.ok(md.includes('Date: 2025-01-15T10:20:30.000Z'));
  assert.ok(md.includes(formatMachine(r.machine)));
  assert.ok(md.includes('```sh\nnpm run loadtest -- --workers 1,2,4\n```'));
  assert.ok(md.includes('Pinning: gateway cpu0, generator+upstream cpu1'));
  assert.ok(md.includes('uncommitted changes'));
  const runRows = md.split('\n').filter((l) => /^\| rest-/.test(l) && l.split('|').length === 19);
  assert.equal(runRows.length, r.runs.length, 'one 17-column row per run');
  assert.ok(md.includes('| rest-small | closed | turnpike | 4 | 64 | – | 23,000 | 4.10 | 6.20 | 9.90 | 15.2 | 31.7 | – | 7 (connect 2, 5xx 5) | 86.9 | 12,422 | 260.8 |'));
  assert.ok(md.includes('| rest-small | open | turnpike | 2 | 64 | 5,000 | 4,999 | 1.20 | 1.90 | 3.40 | 7.70 | 12.0 | 1.10 | 0 |'), 'open run with added p99');
  assert.ok(md.includes('| rest-small | open | direct | 0 | 64 | 5,000 | 5,000 |') && md.includes('| 0 | – | – | – |'), 'direct run: no CPU/RSS');
  assert.ok(md.includes('| rest-small | 80.5 | 8.05 | 198,758 | **PASS** | 9.90 | 1.10 | 8,000 | – | **PASS** |'));
  assert.ok(md.includes('| rest-16k | 140.2 | 14.02 | 114,123 | **PASS** | 9.90 | – | – | – | not measured |'));
  assert.ok(md.includes('| slow \\| bad | 200.0 | 20.00 | 80,000 | **FAIL** | 40.0 | 12.5 | 500 | 2,000 | **FAIL** |'), 'pipe escaped, FAIL shown');
  assert.ok(md.includes('![rest-small: latency by percentile](x-latency-rest-small.svg)'));
  assert.ok(md.includes('## How to read this'));
  assert.match(md, /utime \+ stime[^\n]*primary and every worker/);
  assert.match(md, /scheduled send time/);
  assert.match(md, /lower bound/);
});

test('markdown report: empty result still renders', () => {
  const r = { ...sampleResult(), runs: [], projections: [] };
  const md = formatMarkdownReport(r, []);
  assert.ok(md.includes('(no runs)') && md.includes('(no projections)'));
  assert.ok(!md.includes('## Charts'));
});

test('writeReport writes JSON, Markdown, one latency SVG per scenario and the throughput SVG', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'report-test-'));
  try {
    const r = sampleResult();
    const paths = writeReport(r, join(dir, 'out'), 'loadtest-t');
    const names = paths.map((p) => basename(p));
    assert.deepEqual(names, ['loadtest-t.json', 'loadtest-t.md', 'loadtest-t-latency-rest-small.svg',
      'loadtest-t-latency-rest-16k.svg', 'loadtest-t-throughput.svg']);
    assert.deepEqual((await readdir(join(dir, 'out'))).sort(), [...names].sort());
    assert.deepEqual(JSON.parse(await readFile(paths[0], 'utf8')), r);
    const md = await readFile(paths[1], 'utf8');
    for (const n of names.slice(2)) {
      assert.ok(md.includes(`](${n})`), `report links ${n}`);
      const svg = await readFile(join(dir, 'out', n), 'utf8');
      assert.equal(xmlProblem(svg), null, n);
      assert.ok(!svg.includes('NaN') && !svg.includes('Infinity'), n);
    }
    const tput = await readFile(paths[4], 'utf8');
    assert.ok(tput.includes('>rest-small turnpike c64</text>'));
    assert.ok(!tput.includes('rest-16k'), 'a single worker count gets no throughput line');
    const lat = await readFile(paths[2], 'utf8');
    assert.ok(lat.includes('>direct open w0 c64 @5000/s</text>'), 'direct run plotted from its percentiles');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('writeReport: no throughput chart without two closed-loop worker counts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'report-test-'));
  try {
    const r = { ...sampleResult(), runs: [sampleRun(), sampleRun({ mode: 'open', workers: 2, rate: 1000 })] };
    const names = (writeReport(r, dir, 'b')).map((p) => basename(p));
    assert.deepEqual(names, ['b.json', 'b.md', 'b-latency-rest-small.svg']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('chart helpers: file-safe names and throughput series keep the best run per worker count', () => {
  assert.equal(fileSafe('rest small/../x'), 'rest-small-..-x');
  assert.equal(fileSafe('../'), 'scenario');
  const s = throughputSeries([sampleRun({ workers: 1, rps: 10 }), sampleRun({ workers: 1, rps: 30 }), sampleRun({ workers: 2, rps: 50 })]);
  assert.deepEqual(s, [{ label: 'rest-small turnpike c64', points: [{ workers: 1, rps: 30 }, { workers: 2, rps: 50 }] }]);
});
