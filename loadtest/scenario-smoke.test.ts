// A short smoke run of every scenario: the real upstream, the real gateway
// (1 worker) and the generators. Scenarios in FULL run both loops (about a
// second per step, with the direct baseline); the others, which differ from
// one of those only by the gateway's config, run the closed loop for half a
// second (the CI budget). It checks that the suite works and every number it
// reports is present and sane; speed is measured by `npm run loadtest`, not
// asserted here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ProcessSet } from '../native-bench/bench-procs.js';
import { runScenario } from './run-scenario.js';
import { SCENARIOS } from './scenarios/index.js';

const SMOKE_RATES: Record<string, number> = { passthrough: 300, tls: 300, 'tls-mtls': 300, params: 300, 'large-body': 20, 'slow-upstream': 200, ratelimit: 300, policies: 300, jwt: 300, auth: 300, 'transcode-small-inline': 200, 'transcode-small-pool': 200, 'transcode-large-inline': 20, 'transcode-large-pool': 20, 'cache-hit': 300, transform: 300 };

/** Scenarios smoked in both loops: one of each generator and upstream kind. */
const FULL = new Set(['passthrough', 'tls', 'large-body', 'slow-upstream', 'transcode-small-pool', 'cache-hit', 'post-2k']);

for (const scenario of SCENARIOS) {
  if (!FULL.has(scenario.name)) {
    test(`smoke: ${scenario.name} runs the closed loop through a 1-worker gateway`, { timeout: 60_000 }, async () => {
      const set = new ProcessSet();
      const runDir = mkdtempSync(join(os.tmpdir(), 'loadtest-smoke-'));
      chmodSync(runDir, 0o755);
      try {
        const runs = await runScenario({
          scenario, modes: ['closed'], workers: [1], durationS: 0.5, warmupS: 0.2, rates: [],
          connections: Math.min(scenario.connections, 16), openConnections: 16, set, runDir, clkTck: 100,
        });
        assert.deepEqual(runs.map((r) => `${r.mode}/${r.target}`), ['closed/turnpike']);
        const [r] = runs;
        const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
        assert.equal(errs, 0, `errors ${JSON.stringify(r.errors)}`);
        assert.ok(r.requests > 0 && r.rps > 0 && r.latency.p50 > 0 && r.latency.p50 <= r.latency.p99, `${r.requests} requests`);
        assert.ok(r.cpuUsPerRequest !== null && r.cpuUsPerRequest > 0 && Number.isFinite(r.cpuUsPerRequest), `cpu ${r.cpuUsPerRequest}`);
      } finally {
        await set.stopAll(3000);
        rmSync(runDir, { recursive: true, force: true });
      }
    });
    continue;
  }
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
