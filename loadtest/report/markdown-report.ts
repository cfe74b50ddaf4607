/**
 * The human load-test report (Markdown) and the writer that puts the JSON,
 * the Markdown and the SVG charts of one run side by side on disk.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadtestResult, Projection, ScenarioRun } from '../result-types.js';
import { formatMachine } from '../../native-bench/machine-info.js';
import { chartsFor } from './report-charts.js';
import { fmtFixed, fmtInt, fmtMs, formatErrors } from './run-format.js';

/** Added p99 limit of the seed target, ms. */
const ADDED_P99_LIMIT_MS = 10;

/** Escapes a value for a Markdown table cell (pipes, newlines). */
export function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** One Markdown table row. */
function row(cells: string[]): string {
  return `| ${cells.map(mdCell).join(' | ')} |`;
}

/** The table of every run, in the order they ran. */
export function formatRunsTable(runs: ScenarioRun[]): string {
  const lines = [
    '| scenario | mode | target | workers | connections | rate (req/s) | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | added p99 ms | errors | CPU µs/req | req/s per core | RSS MiB |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|',
  ];
  for (const r of runs) {
    const l = r.latency;
    lines.push(row([r.scenario, r.mode, r.target, String(r.workers), String(r.connections), fmtInt(r.rate), fmtInt(r.rps),
      fmtMs(l.p50), fmtMs(l.p90), fmtMs(l.p99), fmtMs(l.p99_9), fmtMs(l.max), fmtMs(r.added?.p99 ?? null),
      formatErrors(r.errors), fmtFixed(r.cpuUsPerRequest, 1), fmtInt(r.rpsPerCore), fmtFixed(r.rssMiB, 1)]));
  }
  return lines.join('\n');
}

/** PASS / FAIL / "not measured". */
function verdict(pass: boolean | null): string {
  return pass === null ? 'not measured' : pass ? '**PASS**' : '**FAIL**';
}

/** The projections table: one row per scenario with PASS/FAIL against the targets. */
export function formatProjectionsTable(projections: Projection[]): string {
  const lines = [
    `| scenario | CPU µs/req (best run) | cores for 100K req/s | projected req/s on 16 cores | throughput (≥ 100K on 16 cores) | p99 ms (worst sustained) | added p99 ms (worst sustained) | highest sustained rate | saturated at (req/s) | latency (added p99 < ${ADDED_P99_LIMIT_MS} ms) |`,
    '|---|---:|---:|---:|---|---:|---:|---:|---|---|',
  ];
  for (const p of projections) {
    lines.push(row([p.scenario, fmtFixed(p.cpuUsPerRequest, 1), fmtFixed(p.coresFor100k, 2), fmtInt(p.projectedRps16Cores),
      verdict(p.throughputPass), fmtMs(p.p99Ms), fmtMs(p.addedP99Ms),
      p.maxSustainedRate === null ? '–' : fmtInt(p.maxSustainedRate),
      (p.saturatedRates ?? []).length === 0 ? '–' : p.saturatedRates.map(fmtInt).join(', '), verdict(p.latencyPass)]));
  }
  return lines.join('\n');
}

/** How to read the numbers: where CPU and latency come from, and the shared-core caveat. */
const HOW_TO_READ = [
  'CPU µs/req is the gateway\'s CPU time (utime + stime from /proc/<pid>/stat, summed over the primary and every worker process) ' +
    'consumed during the run, divided by the responses received; req/s per core is req/s ÷ (gateway CPU seconds per second). ' +
    'The projections scale the best measured CPU µs/req linearly: cores for 100K req/s = 100 000 × µs/req ÷ 10⁶.',
  'Closed-loop runs (a fixed number of connections, each sending as soon as the previous response arrived) measure capacity; ' +
    'their latency hides queueing. Open-loop runs send at a fixed arrival rate and measure each request\'s latency from its ' +
    'scheduled send time, not from when it was actually sent, so stalls are not hidden (coordinated-omission corrected). ' +
    '"Added p99" is the open-loop p99 through the gateway minus the p99 of the same load sent straight to the upstream. ' +
    'It is judged only at rates the gateway sustained (at least 95 % of the rate completed, no errors); a rate beyond its ' +
    'capacity only measures queueing and is listed as saturated.',
  'When the load generator or the upstream share CPU cores with the gateway (see pinning above), they compete for the same ' +
    'CPU, so req/s and latency here are a lower bound of the gateway\'s capacity on dedicated cores.',
];

/** The whole Markdown report; `charts` are linked as images in the given order. */
export function formatMarkdownReport(result: LoadtestResult, charts: Array<{ file: string; title: string }>): string {
  const m = result.machine;
  const out = [
    '# Turnpike load test',
    '',
    `Date: ${result.date}`,
    '',
    `Machine: ${formatMachine(m)}. Load average (1 min) at start: ${fmtFixed(m.loadAvgStart, 2)}.`,
    '',
    `Turnpike at git ${m.gitCommit}${m.gitDirty ? ' (working tree had uncommitted changes)' : ''}.`,
    '',
    `Pinning: ${result.pinning}`,
    '',
    'Command:',
    '',
    '```sh',
    result.command,
    '```',
    '',
    '## Runs',
    '',
    result.runs.length === 0 ? '(no runs)' : formatRunsTable(result.runs),
    '',
    `## Projections against the targets (100K req/s on ≤ 16 cores; added p99 < ${ADDED_P99_LIMIT_MS} ms)`,
    '',
    result.projections.length === 0 ? '(no projections)' : formatProjectionsTable(result.projections),
    '',
  ];
  if (charts.length > 0) {
    out.push('## Charts', '');
    for (const c of charts) out.push(`![${c.title.replace(/[[\]]/g, '')}](${encodeURI(c.file)})`, '');
  }
  out.push('## How to read this', '', ...HOW_TO_READ.flatMap((p) => [p, '']));
  return out.join('\n');
}

/**
 * Writes `<baseName>.json`, `<baseName>.md` and the charts
 * (`<baseName>-latency-<scenario>.svg`, `<baseName>-throughput.svg`) into
 * `outDir` (created if missing). Returns the written paths, JSON first.
 */
export function writeReport(result: LoadtestResult, outDir: string, baseName: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const charts = chartsFor(result, baseName);
  const written: string[] = [];
  const jsonPath = join(outDir, `${baseName}.json`);
  writeFileSync(jsonPath, JSON.stringify(result, null, 2) + '\n');
  written.push(jsonPath);
  const mdPath = join(outDir, `${baseName}.md`);
  writeFileSync(mdPath, formatMarkdownReport(result, charts));
  written.push(mdPath);
  for (const c of charts) {
    const p = join(outDir, c.file);
    writeFileSync(p, c.svg);
    written.push(p);
  }
  return written;
}
