// A short smoke run of the scenarios in FULL (one of each generator and
// upstream kind): the real upstream, the real gateway (1 worker) and both
// generators, about a second per step, with the direct baseline. It checks
// that the suite works and every number it reports is present and sane;
// speed is measured by `npm run loadtest`, not asserted here. It runs alone
// (scripts/run-tests.mjs): the open loop checks it kept its rate.
// scenario-smoke-closed.test.ts runs the other scenarios.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ProcessSet } from '../native-bench/bench-procs.js';
import { runScenario } from './run-scenario.js';
import { SCENARIOS } from './scenarios/index.js';
import { FULL, SMOKE_RATES } from './smoke-sets.js';

for (const scenario of SCENARIOS) {
  if (!FULL.has(scenario.name)) continue;
  test(`smoke: ${scenario.name} runs closed and open loop through a 1-worker gateway`, { timeout: 60_000 }, async () => {
    const set = new ProcessSet();
    const runDir = mkdtempSync(join(os.tmpdir(), 'loadtest-smoke-'));
    chmodSync(runDir, 0o755);
    try {
      const rate = SMOKE_RATES[scenario.name] ?? 100;
      const runs = await runScenario({
        scenario, modes: ['closed', 'open'], workers: [1], durationS: 1, warmupS: 0.3, rates: [rate],
        connections: Math.min(scenario.connections, 32), openConnections: 16, set, runDir, clkTck: 100,
      });
      const grpc = scenario.upstreamKind === 'grpc';
      assert.deepEqual(runs.map((r) => `${r.mode}/${r.target}`), grpc ? ['closed/turnpike', 'open/turnpike'] : ['open/direct', 'closed/turnpike', 'open/turnpike']);
      for (const r of runs) {
        const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
        assert.equal(errs, 0, `${r.mode}/${r.target}: errors ${JSON.stringify(r.errors)}`);
        assert.ok(r.requests > 0 && r.rps > 0, `${r.mode}/${r.target}: ${r.requests} requests`);
        assert.ok(r.latency.p50 > 0 && r.latency.p50 <= r.latency.p99 && r.latency.p99 <= r.latency.max, JSON.stringify(r.latency));
        assert.ok(r.curve.length > 5 && r.curve[r.curve.length - 1].ms === r.latency.max);
        if (scenario.upstreamDelayMs > 0) assert.ok(r.latency.p50 >= scenario.upstreamDelayMs, `p50 ${r.latency.p50} ms below the upstream delay`);
      }
      const [closed, open] = runs.slice(-2);
      if (!grpc) assert.equal(runs[0].cpuUsPerRequest, null);
      for (const r of [closed, open]) {
        assert.ok(r.cpuUsPerRequest !== null && r.cpuUsPerRequest > 0 && Number.isFinite(r.cpuUsPerRequest), `cpu ${r.cpuUsPerRequest}`);
        assert.ok(r.rssMiB !== null && r.rssMiB > 20, `gateway RSS ${r.rssMiB} MiB (primary + worker)`);
        assert.ok(r.rpsPerCore !== null && r.rpsPerCore > 0);
      }
      assert.ok(Math.abs(open.rps - rate) / rate < 0.25, `open loop completed ${open.rps.toFixed(0)}/s at target ${rate}/s`);
      assert.ok(grpc ? open.added === null : open.added !== null, 'added latency needs a direct baseline (none for a gRPC upstream)');
    } finally {
      await set.stopAll(3000);
      rmSync(runDir, { recursive: true, force: true });
    }
  });
}
