/**
 * The load-test charts as standalone SVG strings: latency by percentile (HDR
 * style) and throughput by gateway worker count. Pure and dependency-free.
 */
import type { CurvePoint } from '../result-types.js';
import { finiteOr, formatTickValue, niceLinearAxis, renderFrame, type Axis, type FrameSeries, type Tick } from './svg-frame.js';

/** Options of {@link latencyCurveSvg}. */
export interface LatencyCurveOptions {
  /** Chart title (also the SVG `<title>`). */
  title?: string;
  /** Logarithmic latency axis (decades); default linear. */
  logY?: boolean;
  width?: number;
  height?: number;
}

/** Options of {@link throughputVsWorkersSvg}. */
export interface ThroughputOptions {
  title?: string;
  width?: number;
  height?: number;
}

/** Highest x drawn: 9 nines (99.9999999 %); finer percentiles are clamped to it. */
const MAX_NINES = 9;

/**
 * HDR percentile-axis position: x = log10(1 / (1 − p/100)), so 90 % → 1,
 * 99 % → 2, 99.9 % → 3. p ≥ 100 gives Infinity (the caller clips it).
 */
export function percentileToX(p: number): number {
  const q = Math.max(0, finiteOr(p, 0));
  if (q >= 100) return Infinity;
  return Math.min(MAX_NINES, Math.log10(1 / (1 - q / 100)));
}

/** Label of the tick at x = k: 0 %, 90 %, 99 %, 99.9 %, 99.99 %, ... */
export function ninesLabel(k: number): string {
  if (k <= 0) return '0%';
  if (k === 1) return '90%';
  return `99${k > 2 ? '.' + '9'.repeat(k - 2) : ''}%`;
}

/** Curve points with usable numbers, ascending by percentile. */
function cleanCurve(points: CurvePoint[]): CurvePoint[] {
  return points.filter((p) => Number.isFinite(p.percentile) && Number.isFinite(p.ms))
    .sort((a, b) => a.percentile - b.percentile);
}

/** A log10 axis over whole decades covering [lo, hi] (both > 0). */
function logAxis(title: string, lo: number, hi: number): Axis {
  let a = Math.floor(Math.log10(lo));
  let b = Math.ceil(Math.log10(hi));
  if (b <= a) b = a + 1;
  if (b - a > 12) a = b - 12;
  const ticks: Tick[] = [];
  for (let k = a; k <= b; k++) ticks.push({ value: k, label: formatTickValue(10 ** k, 10 ** Math.min(k, 0)) });
  return { title, min: a, max: b, ticks };
}

/**
 * Latency (ms, y) against percentile (x, HDR convention) with one polyline
 * per series. Points at p = 100 are drawn at the x of the last finite
 * percentile on the chart. Empty input draws empty axes with "no data".
 */
export function latencyCurveSvg(series: Array<{ label: string; points: CurvePoint[] }>, opts: LatencyCurveOptions = {}): string {
  const curves = series.map((s) => ({ label: s.label, points: cleanCurve(s.points) }));
  const finiteXs = curves.flatMap((c) => c.points.map((p) => percentileToX(p.percentile)).filter(Number.isFinite));
  const lastFiniteX = finiteXs.length > 0 ? Math.max(...finiteXs) : 4;
  const xMaxTick = Math.max(4, Math.ceil(lastFiniteX - 1e-9));
  const xTicks: Tick[] = [];
  for (let k = 0; k <= xMaxTick; k++) xTicks.push({ value: k, label: ninesLabel(k) });
  const x: Axis = { title: 'percentile', min: 0, max: xMaxTick, ticks: xTicks };

  const all = curves.flatMap((c) => c.points.map((p) => p.ms));
  const yTitle = 'latency (ms)';
  let y: Axis;
  let ty: (ms: number) => number;
  if (opts.logY === true) {
    const positive = all.filter((v) => v > 0);
    const lo = positive.length > 0 ? Math.min(...positive) : 0.1;
    const hi = positive.length > 0 ? Math.max(...positive) : 1;
    y = logAxis(yTitle, lo, hi);
    const floor = y.min;
    ty = (ms) => (ms > 0 ? Math.log10(ms) : floor);
  } else {
    y = niceLinearAxis(yTitle, Math.min(0, ...all), Math.max(0, ...all));
    ty = (ms) => ms;
  }
  const frameSeries: FrameSeries[] = curves.map((c) => ({
    label: c.label,
    markers: false,
    points: c.points.map((p): [number, number] => {
      const px = percentileToX(p.percentile);
      return [Number.isFinite(px) ? px : lastFiniteX, ty(p.ms)];
    }),
  }));
  return renderFrame({
    title: opts.title ?? 'Latency by percentile', x, y, series: frameSeries, width: opts.width, height: opts.height,
  });
}

/**
 * Requests per second (y) against gateway worker count (x, integer ticks),
 * points joined by lines, one series per label.
 */
export function throughputVsWorkersSvg(series: Array<{ label: string; points: Array<{ workers: number; rps: number }> }>, opts: ThroughputOptions = {}): string {
  const clean = series.map((s) => ({
    label: s.label,
    points: s.points.filter((p) => Number.isFinite(p.workers) && Number.isFinite(p.rps))
      .sort((a, b) => a.workers - b.workers),
  }));
  const ws = clean.flatMap((s) => s.points.map((p) => p.workers));
  const rs = clean.flatMap((s) => s.points.map((p) => p.rps));
  let wLo = ws.length > 0 ? Math.min(...ws) : 0;
  let wHi = ws.length > 0 ? Math.max(...ws) : 4;
  if (wHi === wLo) { wLo = Math.max(0, wLo - 1); wHi += 1; }
  const x = niceLinearAxis('gateway workers', Math.floor(wLo), Math.ceil(wHi), Math.min(11, Math.ceil(wHi) - Math.floor(wLo) + 1), true);
  const y = niceLinearAxis('requests/s', 0, Math.max(0, ...rs));
  return renderFrame({
    title: opts.title ?? 'Throughput by worker count',
    x, y,
    series: clean.map((s) => ({ label: s.label, markers: true, points: s.points.map((p): [number, number] => [p.workers, p.rps]) })),
    width: opts.width, height: opts.height,
  });
}
