// A short smoke run of the scenarios that differ from one in FULL
// (scenario-smoke.test.ts) only by the gateway's config: the closed loop
// for half a second through a 1-worker gateway and the real upstream. It
// checks that each config serves without errors and every number is
// present and sane; nothing here depends on the machine being quiet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ProcessSet } from '../native-bench/bench-procs.js';
import { runScenario } from './run-scenario.js';
import { SCENARIOS } from './scenarios/index.js';
import { FULL } from './smoke-sets.js';

for (const scenario of SCENARIOS) {
  if (FULL.has(scenario.name)) continue;
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
}
