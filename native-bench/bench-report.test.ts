import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult } from './bench-run.js';
import { formatTables, median, ratios, summarise } from './bench-report.js';

function run(proxy: string, scenario: string, rps: number, cpu: number, p99: number): RunResult {
  return {
    scenario, proxy, round: 1,
    wrk: {
      requests: rps * 10, durationS: 10, rps, latencyAvgUs: 500, latencyMaxUs: 9000,
      p50Us: 400, p75Us: 500, p90Us: 600, p99Us: p99,
      errors: { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 },
    },
    proxyCpuMs: (cpu * rps * 10) / 1000, proxyCpuUsPerReq: cpu, proxySysUsPerReq: cpu / 2, proxyProcesses: [], treeChanged: false,
    originCpuUsPerReq: 5, wrkCpuUsPerReq: 6, coreBusyPct: [90, 50], otherCpuPct: 3, quietBefore: null, wrkCommand: 'wrk',
  };
}

test('median handles odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('summarise takes medians per scenario and proxy; ratios divide Turnpike by each other proxy', () => {
  const runs = [
    run('turnpike', 'tiny', 30000, 30, 4000), run('nginx', 'tiny', 50000, 12, 2000),
    run('turnpike', 'tiny', 34000, 26, 6000), run('nginx', 'tiny', 54000, 10, 2000),
  ];
  const s = summarise(runs);
  assert.equal(s.length, 2);
  assert.deepEqual([s[0].proxy, s[0].rps, s[0].rpsMin, s[0].rpsMax, s[0].proxyCpuUsPerReq, s[0].p99Us], ['turnpike', 32000, 30000, 34000, 28, 5000]);
  const r = ratios(s);
  assert.equal(r.length, 1);
  assert.equal(r[0].versus, 'nginx');
  assert.equal(r[0].rps, 32000 / 52000);
  assert.equal(r[0].cpuPerReq, 28 / 11);
  assert.equal(r[0].p99, 2.5);
  assert.equal(r[0].cpuPerReqMin, 26 / 10);
  assert.match(formatTables(s, r), /\| nginx \| 0\.62× \| 2\.55× \| 2\.60× \| 2\.50× \|/);
});
