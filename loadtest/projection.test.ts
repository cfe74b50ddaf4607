import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProjections, projectScenario } from './projection.js';
import type { ScenarioRun } from './result-types.js';

function run(over: Partial<ScenarioRun>): ScenarioRun {
  const lat = { p50: 1, p90: 2, p99: 3, p99_9: 4, max: 5 };
  return {
    scenario: 's', mode: 'closed', target: 'turnpike', workers: 1, connections: 10, rate: null, durationS: 1,
    requests: 1000, rps: 1000, latency: lat, curve: [], added: null,
    errors: { connect: 0, timeout: 0, status5xx: 0, status4xx: 0, other: 0, unfinished: 0 },
    cpuUsPerRequest: 25, rpsPerCore: 40000, rssMiB: 80, ...over,
  };
}

test('CPU per request comes from the best closed-loop run; latency from the open-loop runs', () => {
  const p = projectScenario('s', [
    run({ workers: 1, cpuUsPerRequest: 25 }),
    run({ workers: 2, cpuUsPerRequest: 30 }),
    run({ mode: 'open', rate: 2000, rps: 2000, cpuUsPerRequest: 60, latency: { p50: 1, p90: 1, p99: 1.5, p99_9: 2, max: 3 }, added: { p50: 0.2, p90: 0.3, p99: 0.8, p99_9: 1, max: 1 } }),
    run({ mode: 'open', rate: 10000, rps: 10000, cpuUsPerRequest: 40, latency: { p50: 1, p90: 1, p99: 2.5, p99_9: 3, max: 9 }, added: { p50: 0.2, p90: 0.3, p99: 1.2, p99_9: 1, max: 1 } }),
    run({ target: 'direct', cpuUsPerRequest: null }),
    run({ scenario: 'other', cpuUsPerRequest: 1 }),
  ]);
  assert.ok(p !== null);
  assert.equal(p.cpuUsPerRequest, 25);
  assert.equal(p.coresFor100k, 2.5);
  assert.equal(p.projectedRps16Cores, 640000);
  assert.equal(p.p99Ms, 2.5);
  assert.equal(p.addedP99Ms, 1.2);
  assert.equal(p.latencyPass, true);
  assert.equal(p.throughputPass, true);
  assert.match(formatProjections([p]), /s: 25\.0 µs CPU\/request → 2\.50 cores for 100K req\/s, 640,000 req\/s projected on 16 cores \[PASS\]; p99 2\.50 ms, added p99 1\.20 ms \(up to 10000 req\/s\) vs < 10 ms \[PASS\]/);
});

test('failing targets and missing measurements are reported as such', () => {
  const p = projectScenario('s', [run({ cpuUsPerRequest: 200 })]);
  assert.ok(p !== null);
  assert.equal(p.throughputPass, false, '16 cores × 1e6 / 200 µs = 80K < 100K');
  assert.equal(p.latencyPass, null);
  assert.equal(p.addedP99Ms, null);
  assert.match(formatProjections([p]), /\[FAIL\].*not measured.*\[n\/a\]/);
  const slow = projectScenario('s', [run({ mode: 'open', rate: 100, rps: 100, added: { p50: 5, p90: 8, p99: 12, p99_9: 20, max: 30 } })]);
  assert.equal(slow?.latencyPass, false);
  assert.equal(projectScenario('none', [run({})]), null);
});

test('rates the gateway did not sustain are listed as saturated and left out of the latency verdict', () => {
  const lat = (p99: number) => ({ p50: 1, p90: 1, p99, p99_9: p99, max: p99 });
  const p = projectScenario('s', [
    run({ mode: 'open', rate: 2000, rps: 1998, latency: lat(3), added: lat(1.5) }),
    run({ mode: 'open', rate: 10000, rps: 7400, latency: lat(3500), added: lat(3490) }),
    run({ mode: 'open', rate: 5000, rps: 5000, latency: lat(900), added: lat(880), errors: { connect: 0, timeout: 3, status5xx: 0, status4xx: 0, other: 0, unfinished: 0 } }),
  ]);
  assert.ok(p !== null);
  assert.equal(p.addedP99Ms, 1.5);
  assert.equal(p.maxSustainedRate, 2000);
  assert.deepEqual(p.saturatedRates, [5000, 10000]);
  assert.equal(p.latencyPass, true);
  assert.equal(p.p99Ms, 3);
  assert.match(formatProjections([p]), /added p99 1\.50 ms \(up to 2000 req\/s\) vs < 10 ms \[PASS\]; saturated at 5000, 10000 req\/s/);
  const none = projectScenario('s', [run({ mode: 'open', rate: 10000, rps: 7000, added: lat(3000) })]);
  assert.equal(none?.latencyPass, false, 'no sustained rate: the target was not met at any measured rate');
  assert.match(formatProjections([none!]), /none: every open-loop rate saturated the gateway/);
});

test('open-loop runs without a direct baseline (gRPC upstream) are not judged on added latency', () => {
  const p = projectScenario('s', [run({ mode: 'open', rate: 500, rps: 500, added: null })]);
  assert.equal(p?.latencyPass, null);
  assert.equal(p?.maxSustainedRate, 500);
  assert.match(formatProjections([p!]), /not measurable \(no direct baseline; sustained up to 500 req\/s\).*\[n\/a\]/);
});
