import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult } from './bench-run.js';
import { formatMarkdown, formatRatioMatrix, formatTables, median, ratios, summarise, type Report } from './bench-report.js';

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

test('ratios cover Turnpike against each of five other proxies in every scenario; the matrix and the report show them', () => {
  const others = ['nginx', 'haproxy', 'fast-gateway', 'fastify-http-proxy'];
  const runs: RunResult[] = [];
  for (const scenario of ['params', 'large-body']) {
    runs.push(run('turnpike', scenario, 20000, 40, 3000));
    others.forEach((p, i) => runs.push(run(p, scenario, 10000 * (i + 1), 20 * (i + 1), 1000 * (i + 1))));
  }
  const s = summarise(runs);
  const r = ratios(s);
  assert.equal(r.length, 8);
  assert.deepEqual(r.filter((x) => x.scenario === 'params').map((x) => x.versus), others);
  const fastify = r.find((x) => x.scenario === 'large-body' && x.versus === 'fastify-http-proxy')!;
  assert.deepEqual([fastify.rps, fastify.cpuPerReq, fastify.p99], [0.5, 0.5, 0.75]);
  const matrix = formatRatioMatrix(r);
  assert.match(matrix, /\| scenario \| Turnpike ÷ nginx: req\/s · CPU\/req · p99 \| Turnpike ÷ haproxy/);
  assert.match(matrix, /\| large-body \| 2\.00× · 2\.00× · 3\.00× \| 1\.00× · 1\.00× · 1\.50× \| 0\.67× · 0\.67× · 1\.00× \| 0\.50× · 0\.50× · 0\.75× \|/);
  assert.equal(formatRatioMatrix([]), '');
  const report: Report = {
    date: 'd', command: 'c', loadAvgEnd: 1, layout: ['l'], forwarding: [], runs, summary: s, ratios: r, census: [],
    configs: { 'nginx [params]: nginx-proxy.params.conf': 'a\nb\n' },
    machine: {
      cpuModel: 'cpu', cores: 2, kernel: 'k', node: 'v20', nginx: 'n', wrk: 'w', haproxy: 'h', clkTck: 100,
      loadAvgStart: 1, gitCommit: 'abc', gitDirty: false,
    },
    scenarios: [{ name: 'params', description: 'many routes' }], checks: ['turnpike, params: ok'],
  };
  const md = formatMarkdown(report);
  assert.match(md, /^# Proxy benchmark: Turnpike vs nginx vs HAProxy vs fast-gateway vs @fastify\/http-proxy\n/);
  assert.ok(md.includes(matrix));
  assert.match(md, /- \*\*params\*\*: many routes/);
  assert.match(md, /- turnpike, params: ok/);
  assert.match(md, /<details><summary>2 lines<\/summary>\n\n```\na\nb\n```/);
});
