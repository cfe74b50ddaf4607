/**
 * Compares two load-test results run by run: matches runs on (scenario,
 * mode, target, workers, connections, rate) and reports absolute and relative
 * deltas with a better/worse verdict per metric.
 */
import type { LoadtestResult, ScenarioRun } from '../result-types.js';
import { alignColumns } from './terminal.js';
import { mdCell } from './markdown-report.js';
import { errorsTotal, fmtFixed, fmtInt, fmtMs, runLabel } from './run-format.js';

/** The fields that identify "the same run" in two results. */
export type RunKey = Pick<ScenarioRun, 'scenario' | 'mode' | 'target' | 'workers' | 'connections' | 'rate'>;

/** Metrics compared, in display order. */
export type MetricName = 'rps' | 'p50' | 'p99' | 'p99_9' | 'cpuUsPerRequest' | 'rssMiB' | 'errors';

/** One metric of one matched run. */
export interface MetricDelta {
  metric: MetricName;
  before: number | null;
  after: number | null;
  /** after − before; null when either side is null. */
  abs: number | null;
  /** abs ÷ before × 100; null when not computable (a side is null, or before is 0 and after is not). */
  pct: number | null;
  /** By the metric's direction: more req/s is better, less of everything else is better. */
  verdict: 'better' | 'worse' | 'same' | 'n/a';
  /** Changed by more than {@link FLAG_PCT} % (or from zero to non-zero). */
  flagged: boolean;
}

/** One run of either result, with its deltas when both results have it. */
export interface ComparisonRow {
  key: RunKey;
  label: string;
  presence: 'both' | 'only-before' | 'only-after';
  /** Empty unless presence is 'both'. */
  deltas: MetricDelta[];
}

/** Changes bigger than this, in %, are marked with '!'. */
export const FLAG_PCT = 5;

/** Per metric: label, how to read it from a run, whether higher is better, how to print it. */
const METRICS: ReadonlyArray<{ name: MetricName; label: string; get: (r: ScenarioRun) => number | null; higherIsBetter: boolean; fmt: (n: number | null) => string }> = [
  { name: 'rps', label: 'req/s', get: (r) => r.rps, higherIsBetter: true, fmt: fmtInt },
  { name: 'p50', label: 'p50 ms', get: (r) => r.latency.p50, higherIsBetter: false, fmt: fmtMs },
  { name: 'p99', label: 'p99 ms', get: (r) => r.latency.p99, higherIsBetter: false, fmt: fmtMs },
  { name: 'p99_9', label: 'p99.9 ms', get: (r) => r.latency.p99_9, higherIsBetter: false, fmt: fmtMs },
  { name: 'cpuUsPerRequest', label: 'CPU µs/req', get: (r) => r.cpuUsPerRequest, higherIsBetter: false, fmt: (n) => fmtFixed(n, 1) },
  { name: 'rssMiB', label: 'RSS MiB', get: (r) => r.rssMiB, higherIsBetter: false, fmt: (n) => fmtFixed(n, 1) },
  { name: 'errors', label: 'errors', get: (r) => errorsTotal(r.errors), higherIsBetter: false, fmt: fmtInt },
];

/** Identity of a run as a string. */
function keyString(r: RunKey): string {
  return JSON.stringify([r.scenario, r.mode, r.target, r.workers, r.connections, r.rate]);
}

/** Keys made unique by occurrence ("same key twice" pairs first with first, second with second). */
function keyed(runs: ScenarioRun[]): Array<[string, ScenarioRun]> {
  const seen = new Map<string, number>();
  return runs.map((r) => {
    const k = keyString(r);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    return [`${k}#${n}`, r];
  });
}

/** The delta of one metric, with verdict and flag. */
export function metricDelta(metric: MetricName, before: number | null, after: number | null, higherIsBetter: boolean): MetricDelta {
  const ok = (n: number | null): n is number => n !== null && Number.isFinite(n);
  if (!ok(before) || !ok(after)) return { metric, before, after, abs: null, pct: null, verdict: 'n/a', flagged: false };
  const abs = after - before;
  const pct = before !== 0 ? (abs / Math.abs(before)) * 100 : abs === 0 ? 0 : null;
  const verdict = abs === 0 ? 'same' : (abs > 0) === higherIsBetter ? 'better' : 'worse';
  return { metric, before, after, abs, pct, verdict, flagged: abs !== 0 && (pct === null || Math.abs(pct) > FLAG_PCT) };
}

/** Matches the runs of two results and computes the deltas; before's order first, then runs only in after. */
export function compareResults(before: LoadtestResult, after: LoadtestResult): ComparisonRow[] {
  const afterRuns = new Map(keyed(after.runs));
  const rows: ComparisonRow[] = [];
  for (const [k, b] of keyed(before.runs)) {
    const a = afterRuns.get(k);
    afterRuns.delete(k);
    const key: RunKey = { scenario: b.scenario, mode: b.mode, target: b.target, workers: b.workers, connections: b.connections, rate: b.rate };
    rows.push(a === undefined
      ? { key, label: runLabel(b), presence: 'only-before', deltas: [] }
      : { key, label: runLabel(b), presence: 'both', deltas: METRICS.map((m) => metricDelta(m.name, m.get(b), m.get(a), m.higherIsBetter)) });
  }
  for (const a of afterRuns.values()) {
    const key: RunKey = { scenario: a.scenario, mode: a.mode, target: a.target, workers: a.workers, connections: a.connections, rate: a.rate };
    rows.push({ key, label: runLabel(a), presence: 'only-after', deltas: [] });
  }
  return rows;
}

/** after − before, signed, with as many decimals as the larger of the two values shows ("+1,000", "-0.40"). */
function signedDelta(d: MetricDelta, fmt: (n: number | null) => string): string {
  if (d.abs === null) return '–';
  const ref = fmt(Math.max(Math.abs(d.before ?? 0), Math.abs(d.after ?? 0)));
  const decimals = ref.includes('.') ? ref.length - ref.indexOf('.') - 1 : 0;
  const mag = Math.abs(d.abs).toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  if (/^[0.,]+$/.test(mag)) return mag;
  return (d.abs > 0 ? '+' : '-') + mag;
}

/** Verdict text with '!' for a flagged change. */
function verdictText(d: MetricDelta): string {
  return d.flagged ? `${d.verdict} !` : d.verdict;
}

/**
 * The comparison as a table, one line per metric of each matched run and one
 * line per run found in only one result, then a one-line summary. Plain
 * aligned text by default, a Markdown table with `{ markdown: true }`.
 */
export function formatComparison(rows: ComparisonRow[], opts: { markdown?: boolean } = {}): string {
  const header = ['run', 'metric', 'before', 'after', 'Δ', 'Δ %', 'verdict'];
  const body: string[][] = [];
  for (const r of rows) {
    if (r.presence !== 'both') {
      body.push([r.label, r.presence === 'only-before' ? 'only in before' : 'only in after', '', '', '', '', '']);
      continue;
    }
    r.deltas.forEach((d, i) => {
      const m = METRICS.find((x) => x.name === d.metric)!;
      const pct = d.pct === null ? (d.abs === null ? '–' : 'new') : `${d.pct > 0 ? '+' : ''}${d.pct.toFixed(1)}%`;
      body.push([i === 0 ? r.label : '', m.label, m.fmt(d.before), m.fmt(d.after), signedDelta(d, m.fmt), pct, verdictText(d)]);
    });
  }
  const matched = rows.filter((r) => r.presence === 'both');
  const count = (v: 'better' | 'worse'): number => matched.reduce((a, r) => a + r.deltas.filter((d) => d.flagged && d.verdict === v).length, 0);
  const summary = `${matched.length} run(s) matched; ${count('worse')} metric(s) worse and ${count('better')} better by more than ${FLAG_PCT} % ('!'); ` +
    `only in before: ${rows.filter((r) => r.presence === 'only-before').length}, only in after: ${rows.filter((r) => r.presence === 'only-after').length}.`;
  if (opts.markdown === true) {
    const md = [`| ${header.join(' | ')} |`, '|---|---|---:|---:|---:|---:|---|', ...body.map((c) => `| ${c.map(mdCell).join(' | ')} |`)];
    return `${md.join('\n')}\n\n${summary}\n`;
  }
  return `${alignColumns([header, ...body], [false, false, true, true, true, true, false])}\n\n${summary}\n`;
}
