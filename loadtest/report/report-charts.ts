/**
 * Which charts a load-test result gets, and their SVG: one latency-by-
 * percentile chart per scenario with runs, and one throughput-by-workers
 * chart when closed-loop runs cover at least two worker counts.
 */
import type { CurvePoint, LoadtestResult, ScenarioRun } from '../result-types.js';
import { latencyCurveSvg, throughputVsWorkersSvg } from './svg-chart.js';

/** A chart to write next to the report. */
export interface ChartFile {
  /** File name (no directory), e.g. "loadtest-x-latency-rest-small.svg". */
  file: string;
  title: string;
  svg: string;
}

/** A scenario name made safe for a file name. */
export function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'scenario';
}

/** The run's curve, or one built from its percentiles when the curve is empty. */
function curveOf(r: ScenarioRun): CurvePoint[] {
  if (r.curve.length > 0) return r.curve;
  const l = r.latency;
  return [{ percentile: 50, ms: l.p50 }, { percentile: 90, ms: l.p90 }, { percentile: 99, ms: l.p99 },
    { percentile: 99.9, ms: l.p99_9 }, { percentile: 100, ms: l.max }];
}

/** Legend label of a run within its scenario's chart. */
function seriesLabel(r: ScenarioRun): string {
  return `${r.target} ${r.mode} w${r.workers} c${r.connections}${r.rate === null ? '' : ` @${r.rate}/s`}`;
}

/** Scenarios in first-seen order. */
function scenarios(runs: ScenarioRun[]): string[] {
  return [...new Set(runs.map((r) => r.scenario))];
}

/** Throughput series: closed-loop runs per (scenario, target, connections) with ≥ 2 worker counts. */
export function throughputSeries(runs: ScenarioRun[]): Array<{ label: string; points: Array<{ workers: number; rps: number }> }> {
  const groups = new Map<string, { label: string; best: Map<number, number> }>();
  for (const r of runs) {
    if (r.mode !== 'closed') continue;
    const key = JSON.stringify([r.scenario, r.target, r.connections]);
    let g = groups.get(key);
    if (g === undefined) {
      g = { label: `${r.scenario} ${r.target} c${r.connections}`, best: new Map() };
      groups.set(key, g);
    }
    g.best.set(r.workers, Math.max(g.best.get(r.workers) ?? 0, r.rps));
  }
  return [...groups.values()].filter((g) => g.best.size >= 2).map((g) => ({
    label: g.label,
    points: [...g.best].map(([workers, rps]) => ({ workers, rps })).sort((a, b) => a.workers - b.workers),
  }));
}

/** Every chart for the result, with file names prefixed by `baseName`. */
export function chartsFor(result: LoadtestResult, baseName: string): ChartFile[] {
  const out: ChartFile[] = [];
  const used = new Set<string>();
  for (const s of scenarios(result.runs)) {
    const runs = result.runs.filter((r) => r.scenario === s);
    let file = `${baseName}-latency-${fileSafe(s)}.svg`;
    for (let n = 2; used.has(file); n++) file = `${baseName}-latency-${fileSafe(s)}-${n}.svg`;
    used.add(file);
    const title = `${s}: latency by percentile`;
    out.push({ file, title, svg: latencyCurveSvg(runs.map((r) => ({ label: seriesLabel(r), points: curveOf(r) })), { title }) });
  }
  const tput = throughputSeries(result.runs);
  if (tput.length > 0) {
    const title = 'Closed-loop throughput by gateway worker count';
    out.push({ file: `${baseName}-throughput.svg`, title, svg: throughputVsWorkersSvg(tput, { title }) });
  }
  return out;
}
