/**
 * Aggregation and formatting of the proxy benchmark: per-proxy medians, the
 * Turnpike/other ratios, and the markdown report.
 */
import type { RunResult } from './bench-run.js';
import type { ForwardingCheck } from './proxy-targets.js';
import { formatMachine, type MachineInfo } from './machine-info.js';
import { formatCensus, type Census } from './syscall-census.js';

/** Medians over the rounds of one proxy in one scenario. */
export interface Summary {
  scenario: string;
  proxy: string;
  runs: number;
  rps: number;
  rpsMin: number;
  rpsMax: number;
  p50Us: number;
  p99Us: number;
  proxyCpuUsPerReq: number;
  /** Kernel (stime) part of proxyCpuUsPerReq, median. */
  proxySysUsPerReq: number;
  /** Lowest proxy CPU µs/req of any round: the least disturbed by other jobs. */
  proxyCpuUsPerReqMin: number;
  originCpuUsPerReq: number;
  wrkCpuUsPerReq: number;
  coreBusyPct: number[];
  /** CPU of other people's processes during the runs, % of one core (median). */
  otherCpuPct: number;
  /** Socket errors + non-2xx over all rounds (should be 0). */
  errors: number;
}

/** Turnpike divided by another proxy, in one scenario. */
export interface Ratio {
  scenario: string;
  versus: string;
  rps: number;
  cpuPerReq: number;
  /** Ratio of the per-proxy minimum CPU µs/req (least-disturbed rounds). */
  cpuPerReqMin: number;
  p99: number;
}

/** Everything the report prints. */
export interface Report {
  date: string;
  command: string;
  machine: MachineInfo;
  loadAvgEnd: number;
  layout: string[];
  forwarding: ForwardingCheck[];
  runs: RunResult[];
  summary: Summary[];
  ratios: Ratio[];
  /** Syscalls per request (perf stat), empty when perf tracepoints are unavailable. */
  census: Census[];
  configs: Record<string, string>;
  /** The scenarios run (name and one-line description); absent in older reports. */
  scenarios?: { name: string; description: string }[];
  /** What was checked of every proxy's answers before measuring, one line per proxy and scenario. */
  checks?: string[];
}

/** Display names of the proxies, for titles. */
const DISPLAY: Record<string, string> = {
  turnpike: 'Turnpike', nginx: 'nginx', haproxy: 'HAProxy', 'fast-gateway': 'fast-gateway', 'fastify-http-proxy': '@fastify/http-proxy',
};

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Medians per (scenario, proxy), in first-seen order. */
export function summarise(runs: RunResult[]): Summary[] {
  const keys: string[] = [];
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) {
    const k = r.scenario + '\u0000' + r.proxy;
    if (!groups.has(k)) { groups.set(k, []); keys.push(k); }
    groups.get(k)!.push(r);
  }
  return keys.map((k) => {
    const g = groups.get(k)!;
    const rps = g.map((r) => r.wrk.rps);
    const e = g.reduce((a, r) => a + r.wrk.errors.connect + r.wrk.errors.read + r.wrk.errors.write + r.wrk.errors.timeout + r.wrk.errors.non2xx, 0);
    return {
      scenario: g[0].scenario,
      proxy: g[0].proxy,
      runs: g.length,
      rps: median(rps),
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      p50Us: median(g.map((r) => r.wrk.p50Us)),
      p99Us: median(g.map((r) => r.wrk.p99Us)),
      proxyCpuUsPerReq: median(g.map((r) => r.proxyCpuUsPerReq)),
      proxySysUsPerReq: median(g.map((r) => r.proxySysUsPerReq)),
      proxyCpuUsPerReqMin: Math.min(...g.map((r) => r.proxyCpuUsPerReq)),
      originCpuUsPerReq: median(g.map((r) => r.originCpuUsPerReq)),
      wrkCpuUsPerReq: median(g.map((r) => r.wrkCpuUsPerReq)),
      coreBusyPct: g[0].coreBusyPct.map((_, i) => median(g.map((r) => r.coreBusyPct[i] ?? 0))),
      otherCpuPct: median(g.map((r) => r.otherCpuPct)),
      errors: e,
    };
  });
}

/** Turnpike / X for every other proxy in every scenario. */
export function ratios(summary: Summary[]): Ratio[] {
  const out: Ratio[] = [];
  for (const t of summary) {
    if (t.proxy !== 'turnpike') continue;
    for (const o of summary) {
      if (o.scenario !== t.scenario || o.proxy === 'turnpike') continue;
      out.push({
        scenario: t.scenario, versus: o.proxy,
        rps: t.rps / o.rps, cpuPerReq: t.proxyCpuUsPerReq / o.proxyCpuUsPerReq,
        cpuPerReqMin: t.proxyCpuUsPerReqMin / o.proxyCpuUsPerReqMin, p99: t.p99Us / o.p99Us,
      });
    }
  }
  return out;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const f1 = (n: number): string => n.toFixed(1);
const f2 = (n: number): string => n.toFixed(2);
/** Microseconds as wrk shows them: µs below 1 ms, else ms. */
const us = (n: number): string => (n < 1000 ? `${f1(n)} µs` : `${f2(n / 1000)} ms`);

/** The summary and ratio tables (also printed to the console). */
export function formatTables(summary: Summary[], rs: Ratio[]): string {
  const lines: string[] = [];
  for (const scenario of [...new Set(summary.map((s) => s.scenario))]) {
    lines.push(`### Scenario ${scenario}`, '',
      '| proxy | req/s (median) | req/s min–max | p50 | p99 | **proxy CPU µs/req** | (min) | of which kernel | origin µs/req | wrk µs/req | core busy % | others\' CPU % | errors |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of summary.filter((x) => x.scenario === scenario)) {
      lines.push(`| ${s.proxy} | ${int(s.rps)} | ${int(s.rpsMin)}–${int(s.rpsMax)} | ${us(s.p50Us)} | ${us(s.p99Us)} | **${f1(s.proxyCpuUsPerReq)}** | ${f1(s.proxyCpuUsPerReqMin)} | ${f1(s.proxySysUsPerReq)} | ${f1(s.originCpuUsPerReq)} | ${f1(s.wrkCpuUsPerReq)} | ${s.coreBusyPct.map((c) => c.toFixed(0)).join(' / ')} | ${s.otherCpuPct.toFixed(0)} | ${s.errors} |`);
    }
    const mine = rs.filter((r) => r.scenario === scenario);
    if (mine.length > 0) {
      lines.push('', '| Turnpike ÷ | req/s | CPU µs/req (median) | CPU µs/req (min) | p99 |', '|---|---:|---:|---:|---:|');
      for (const r of mine) lines.push(`| ${r.versus} | ${f2(r.rps)}× | ${f2(r.cpuPerReq)}× | ${f2(r.cpuPerReqMin)}× | ${f2(r.p99)}× |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * One table of every ratio: a row per scenario, a column per other proxy,
 * each cell `req/s · CPU µs/req · p99` of Turnpike ÷ that proxy.
 */
export function formatRatioMatrix(rs: Ratio[]): string {
  if (rs.length === 0) return '';
  const versus = [...new Set(rs.map((r) => r.versus))];
  const lines = [
    '| scenario | ' + versus.map((v) => `Turnpike ÷ ${v}: req/s · CPU/req · p99`).join(' | ') + ' |',
    '|---|' + versus.map(() => '---:|').join(''),
  ];
  for (const scenario of [...new Set(rs.map((r) => r.scenario))]) {
    const cells = versus.map((v) => {
      const r = rs.find((x) => x.scenario === scenario && x.versus === v);
      return r === undefined ? '–' : `${f2(r.rps)}× · ${f2(r.cpuPerReq)}× · ${f2(r.p99)}×`;
    });
    lines.push(`| ${scenario} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Runs where other jobs took more than this % of one core are marked noisy. */
const NOISY_PCT = 25;

/** Every run, in the order it ran. */
export function formatRuns(runs: RunResult[]): string {
  const lines = ['| # | scenario | proxy | round | req/s | requests | p50 | p99 | max | proxy CPU ms | proxy µs/req | of which kernel | origin µs/req | wrk µs/req | core busy % | others\' CPU % | note |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'];
  runs.forEach((r, i) => {
    const e = r.wrk.errors;
    const errs = e.connect + e.read + e.write + e.timeout + e.non2xx;
    const note = [errs > 0 ? `errors ${JSON.stringify(e)}` : '', r.treeChanged ? 'process set changed' : '',
      r.otherCpuPct > NOISY_PCT ? 'noisy (other jobs)' : ''].filter(Boolean).join('; ');
    lines.push(`| ${i + 1} | ${r.scenario} | ${r.proxy} | ${r.round} | ${int(r.wrk.rps)} | ${int(r.wrk.requests)} | ${us(r.wrk.p50Us)} | ${us(r.wrk.p99Us)} | ${us(r.wrk.latencyMaxUs)} | ${int(r.proxyCpuMs)} | ${f1(r.proxyCpuUsPerReq)} | ${f1(r.proxySysUsPerReq)} | ${f1(r.originCpuUsPerReq)} | ${f1(r.wrkCpuUsPerReq)} | ${r.coreBusyPct.map((c) => c.toFixed(0)).join(' / ')} | ${r.otherCpuPct.toFixed(0)} | ${note} |`);
  });
  return lines.join('\n');
}

/** The human report (results/proxy-bench.md). */
export function formatMarkdown(rep: Report): string {
  const m = rep.machine;
  const out = [
    '# Proxy benchmark: ' + [...new Set(rep.summary.map((s) => s.proxy))].map((p) => DISPLAY[p] ?? p).join(' vs '),
    '',
    `Date: ${rep.date}. Machine: ${formatMachine(m)}.`,
    `Turnpike at git ${m.gitCommit}${m.gitDirty ? ' (working tree had uncommitted changes by parallel work)' : ''}, run from dist/.`,
    `Load average (1 min): ${f2(m.loadAvgStart)} at start, ${f2(rep.loadAvgEnd)} at end (other engineers' jobs share this box).`,
    '',
    'Command (from the repo root):',
    '',
    '```sh',
    rep.command,
    '```',
    '',
    '## Layout',
    '',
    ...rep.layout.map((l) => `- ${l}`),
    '',
    ...(rep.scenarios === undefined ? [] : ['## Scenarios', '', ...rep.scenarios.map((s) => `- **${s.name}**: ${s.description}`), '']),
    ...(rep.checks === undefined ? [] : ['## Response checks (every proxy, before its scenario\'s rounds)', '', ...rep.checks.map((c) => `- ${c}`), '']),
    '## Results (medians over rounds)',
    '',
    ...(rep.ratios.length === 0 ? [] : ['Turnpike ÷ each proxy (below 1× is better for Turnpike on CPU/req and p99, above 1× on req/s):', '', formatRatioMatrix(rep.ratios), '']),
    formatTables(rep.summary, rep.ratios),
    'Proxy CPU µs/req = (utime+stime of every process of the proxy, from /proc/<pid>/stat, after − before the wrk run) ÷ requests wrk completed. ' +
      'Origin and wrk µs/req are measured the same way (wrk\'s from its reaping shell\'s cutime). Core busy % is per core (cpu0 / cpu1) from /proc/stat over the same window; ' +
      '"others\' CPU %" is all cores\' busy time minus proxy, origin and wrk, in % of one core: other jobs on the box (noise). p50/p99 are wrk\'s latency distribution (closed loop, 1 thread).',
    '',
    '## All runs (in the order they ran)',
    '',
    formatRuns(rep.runs),
    '',
    ...(rep.census.length === 0 ? [] : [
      '## Syscalls per request (separate short run under `perf stat`, after the timed rounds)',
      '',
      formatCensus(rep.census),
      '',
      'Counted with kernel tracepoints (`perf stat -e raw_syscalls:sys_enter,context-switches,syscalls:sys_enter_<name>... -p <every pid of the proxy>`) during a wrk run of the same shape; not part of the timed numbers.',
      '',
    ]),
    '## Forwarding check (what the origin received through each proxy)',
    '',
    '| proxy | X-Forwarded-For | X-Forwarded-Proto | X-Forwarded-Host | X-Request-Id sent upstream | Host sent upstream | X-Request-Id on response | response headers |',
    '|---|---|---|---|---|---|---|---|',
    ...(rep.forwarding.length === 0 ? ['| (not checked: no catch-all scenario on the nginx origin was run) | | | | | | | |'] : []),
    ...rep.forwarding.map((f) => `| ${f.proxy} | ${f.upstreamSaw.xff} | ${f.upstreamSaw.xfp} | ${f.upstreamSaw.xfh} | ${f.upstreamSaw.rid} | ${f.upstreamSaw.host} | ${f.responseRequestId || '(none)'} | ${f.responseHeaders.join(', ')} |`),
    '',
    '## Configs (as rendered for this run; templates in native-bench/configs/)',
    '',
  ];
  for (const [name, text] of Object.entries(rep.configs)) {
    // why: the params configs run to hundreds of lines each; folded, the report stays readable.
    const lines = text.trimEnd().split('\n').length;
    out.push(`### ${name}`, '', `<details><summary>${lines} lines</summary>`, '', '```', text.trimEnd(), '```', '', '</details>', '');
  }
  return out.join('\n');
}
