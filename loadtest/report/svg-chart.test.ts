import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latencyCurveSvg, ninesLabel, percentileToX, throughputVsWorkersSvg } from './svg-chart.js';
import { escapeXml, niceLinearAxis } from './svg-frame.js';
import { xmlProblem } from './xml-balance.js';

/** Asserts the chart is a standalone, well-formed SVG with no NaN/Infinity anywhere. */
function assertSaneSvg(svg: string): void {
  assert.equal(xmlProblem(svg), null, 'well-formed XML');
  assert.ok(!svg.includes('NaN'), 'no NaN');
  assert.ok(!svg.includes('Infinity'), 'no Infinity');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
  assert.match(svg, /<title>[^<]+<\/title>/);
}

/** x pixel coordinates of a polyline's points, in order. */
function polylineXs(svg: string, n: number): number[] {
  const all = [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)];
  return all[n][1].split(' ').map((p) => Number(p.split(',')[0]));
}

const CURVE = [
  { percentile: 0, ms: 0.4 }, { percentile: 50, ms: 1.1 }, { percentile: 90, ms: 2.3 },
  { percentile: 99, ms: 5.2 }, { percentile: 99.9, ms: 9.8 }, { percentile: 99.99, ms: 14 }, { percentile: 100, ms: 21.5 },
];

test('percentile axis uses the HDR convention and nines labels', () => {
  assert.equal(percentileToX(0), 0);
  assert.ok(Math.abs(percentileToX(90) - 1) < 1e-9);
  assert.ok(Math.abs(percentileToX(99.9) - 3) < 1e-9);
  assert.equal(percentileToX(100), Infinity);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(ninesLabel), ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%']);
});

test('latency curve: axes, tick labels, titles, legend, one polyline per series in distinct colours', () => {
  const svg = latencyCurveSvg([
    { label: 'turnpike', points: CURVE },
    { label: 'direct', points: CURVE.map((p) => ({ ...p, ms: p.ms / 2 })) },
  ], { title: 'rest-small: latency' });
  assertSaneSvg(svg);
  for (const label of ['0%', '90%', '99%', '99.9%', '99.99%']) assert.ok(svg.includes(`>${label}</text>`), label);
  assert.ok(svg.includes('>percentile</text>') && svg.includes('>latency (ms)</text>'));
  assert.ok(svg.includes('>turnpike</text>') && svg.includes('>direct</text>'), 'legend');
  assert.ok(svg.includes('<title>rest-small: latency</title>'));
  const lines = [...svg.matchAll(/<polyline [^>]*stroke="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(lines.length, 2);
  assert.notEqual(lines[0], lines[1]);
  // y ticks are "nice": 0 .. 25 in steps of 5 for a 21.5 ms maximum.
  assert.ok(svg.includes('>25</text>') && svg.includes('>5</text>'));
});

test('latency curve: p=100 is clipped to the last finite point, x never decreases', () => {
  const svg = latencyCurveSvg([{ label: 'a', points: CURVE }]);
  const xs = polylineXs(svg, 0);
  assert.equal(xs.length, CURVE.length);
  for (let i = 1; i < xs.length; i++) assert.ok(xs[i] >= xs[i - 1], `x[${i}] ${xs[i]} >= ${xs[i - 1]}`);
  assert.equal(xs[xs.length - 1], xs[xs.length - 2], 'p100 at the x of p99.99');
});

test('latency curve: log y axis labels decades and survives zeros', () => {
  const svg = latencyCurveSvg([{ label: 'a', points: [{ percentile: 0, ms: 0 }, ...CURVE.slice(1)] }], { logY: true });
  assertSaneSvg(svg);
  for (const d of ['1', '10', '100']) assert.ok(svg.includes(`>${d}</text>`), d);
});

test('charts: empty input, empty series, single point and all-zero values stay finite', () => {
  const cases = [
    latencyCurveSvg([]),
    latencyCurveSvg([{ label: 'empty', points: [] }]),
    latencyCurveSvg([{ label: 'one', points: [{ percentile: 50, ms: 3 }] }]),
    latencyCurveSvg([{ label: 'max only', points: [{ percentile: 100, ms: 3 }] }]),
    latencyCurveSvg([{ label: 'zeros', points: [{ percentile: 0, ms: 0 }, { percentile: 100, ms: 0 }] }], { logY: true }),
    latencyCurveSvg([{ label: 'bad', points: [{ percentile: NaN, ms: 1 }, { percentile: 50, ms: Infinity }] }]),
    throughputVsWorkersSvg([]),
    throughputVsWorkersSvg([{ label: 'empty', points: [] }]),
    throughputVsWorkersSvg([{ label: 'one', points: [{ workers: 2, rps: 12000 }] }]),
    throughputVsWorkersSvg([{ label: 'zero', points: [{ workers: 0, rps: 0 }, { workers: 0, rps: 0 }] }]),
  ];
  for (const svg of cases) assertSaneSvg(svg);
  assert.ok(cases[0].includes('>no data</text>'));
  assert.ok(cases[2].includes('<circle'), 'a single point is drawn as a marker');
});

test('throughput chart: integer worker ticks, markers and lines, nice req/s ticks', () => {
  const svg = throughputVsWorkersSvg([
    { label: 'rest-small', points: [{ workers: 4, rps: 41000 }, { workers: 1, rps: 12000 }, { workers: 2, rps: 23500 }] },
    { label: 'rest-16k', points: [{ workers: 1, rps: 8000 }, { workers: 4, rps: 26000 }] },
  ]);
  assertSaneSvg(svg);
  const xLabels = [...svg.matchAll(/text-anchor="middle">(\d+)<\/text>/g)].map((m) => Number(m[1]));
  assert.deepEqual(xLabels, [1, 2, 3, 4]);
  assert.equal((svg.match(/<circle /g) ?? []).length, 5);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
  const xs = polylineXs(svg, 0);
  assert.deepEqual([...xs].sort((a, b) => a - b), xs, 'points sorted by workers');
  assert.ok(svg.includes('>50000</text>') && svg.includes('>10000</text>'), 'nice y ticks up to above 41000');
  assert.ok(svg.includes('>requests/s</text>') && svg.includes('>gateway workers</text>'));
});

test('text is escaped in labels and titles', () => {
  const svg = latencyCurveSvg([{ label: 'a<b> & "c" \'d\'\u0001', points: CURVE }], { title: 'T & <x>' });
  assertSaneSvg(svg);
  assert.ok(svg.includes('a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</text>'));
  assert.ok(svg.includes('<title>T &amp; &lt;x&gt;</title>'));
  assert.equal(escapeXml('<&>'), '&lt;&amp;&gt;');
});

test('xml check rejects broken documents', () => {
  assert.match(xmlProblem('<svg><g></svg>') ?? '', /closes/);
  assert.match(xmlProblem('<svg>a & b</svg>') ?? '', /bare &/);
  assert.match(xmlProblem('<svg><g x=1/></svg>') ?? '', /malformed/);
  assert.match(xmlProblem('<svg/><svg/>') ?? '', /second root/);
  assert.match(xmlProblem('<svg>') ?? '', /unclosed/);
  assert.equal(xmlProblem('<?xml version="1.0"?><svg a="1"><!-- c --><t>x &amp; y</t></svg>'), null);
});

test('nice linear axis widens degenerate ranges', () => {
  assert.deepEqual(niceLinearAxis('t', 0, 0).ticks.map((t) => t.label), ['0', '0.2', '0.4', '0.6', '0.8', '1']);
  const a = niceLinearAxis('t', 7, 7);
  assert.ok(a.min <= 0 && a.max >= 7);
  assert.deepEqual(niceLinearAxis('t', 0, 0.9).ticks.map((t) => t.label), ['0', '0.2', '0.4', '0.6', '0.8', '1']);
});
