/**
 * Console output of the load test: an aligned plain-text table of runs and a
 * progress bar that redraws in place on a TTY and prints sparse lines in CI.
 */
import type { ScenarioRun } from '../result-types.js';
import { errorsTotal, fmtFixed, fmtInt, fmtMs } from './run-format.js';

/** Aligns rows of cells into columns; `right[i]` right-aligns column i. */
export function alignColumns(rows: string[][], right: boolean[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  return rows.map((r) => r.map((c, i) => {
    const pad = ' '.repeat(widths[i] - [...c].length);
    return right[i] ? pad + c : c + pad;
  }).join('  ').trimEnd()).join('\n');
}

/** The runs as an aligned plain-text table (header, rule, one line per run). */
export function formatTerminalTable(runs: ScenarioRun[]): string {
  if (runs.length === 0) return '(no runs)';
  const header = ['scenario', 'mode', 'target', 'workers', 'conns', 'rate', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms',
    'p99.9 ms', 'max ms', 'added p99', 'errors', 'CPU µs/req', 'req/s/core', 'RSS MiB'];
  const right = header.map((_, i) => i >= 3);
  const body = runs.map((r) => [r.scenario, r.mode, r.target, String(r.workers), String(r.connections), fmtInt(r.rate),
    fmtInt(r.rps), fmtMs(r.latency.p50), fmtMs(r.latency.p90), fmtMs(r.latency.p99), fmtMs(r.latency.p99_9),
    fmtMs(r.latency.max), fmtMs(r.added?.p99 ?? null), String(errorsTotal(r.errors)), fmtFixed(r.cpuUsPerRequest, 1),
    fmtInt(r.rpsPerCore), fmtFixed(r.rssMiB, 1)]);
  const rule = header.map((h, i) => '-'.repeat(Math.max(...[h, ...body.map((b) => b[i])].map((c) => [...c].length))));
  return alignColumns([header, rule, ...body], right);
}

/** Where a progress bar writes: process.stdout/stderr or any stream-like sink. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Width of the bar itself, in characters. */
const BAR_CELLS = 24;

/**
 * A progress bar for one timed step. On a TTY it redraws one line in place;
 * otherwise it prints at most one line per 10 % step so CI logs stay short.
 */
export class ProgressBar {
  private readonly tty: boolean;
  private lastStep = -1;
  private lastLine = '';
  private lastElapsed = 0;
  private lastInfo = '';
  private finished = false;
  private readonly totalMs: number;

  /** @param totalMs expected duration of the step; progress is elapsed ÷ total, capped at 100 %. */
  constructor(private readonly stream: ProgressStream, private readonly label: string, totalMs: number) {
    this.tty = stream.isTTY === true;
    this.totalMs = Number.isFinite(totalMs) && totalMs > 0 ? totalMs : 0;
  }

  /** Fraction done, 0–1, never NaN. */
  private fraction(elapsedMs: number): number {
    if (!(this.totalMs > 0)) return 1;
    const f = elapsedMs / this.totalMs;
    return Number.isFinite(f) ? Math.min(1, Math.max(0, f)) : 0;
  }

  /** Reports progress; `info` (e.g. current req/s) is shown after the percentage. */
  update(elapsedMs: number, info?: string): void {
    if (this.finished) return;
    this.lastElapsed = Number.isFinite(elapsedMs) ? elapsedMs : 0;
    if (info !== undefined) this.lastInfo = info;
    this.draw(this.fraction(elapsedMs));
  }

  /** Finishes the bar at 100 % and ends its line. Safe to call more than once. */
  done(): void {
    if (this.finished) return;
    this.lastElapsed = this.totalMs;
    this.draw(1);
    if (this.tty) this.stream.write('\n');
    this.finished = true;
  }

  private draw(f: number): void {
    const pct = Math.floor(f * 100);
    const info = this.lastInfo === '' ? '' : `  ${this.lastInfo}`;
    if (!this.tty) {
      const step = Math.floor(pct / 10);
      if (step <= this.lastStep) return;
      this.lastStep = step;
      this.stream.write(`${this.label} ${pct}%${info}\n`);
      return;
    }
    const filled = Math.round(f * BAR_CELLS);
    const secs = `${(Math.min(this.lastElapsed, this.totalMs) / 1000).toFixed(1)}/${(this.totalMs / 1000).toFixed(1)} s`;
    let line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(BAR_CELLS - filled)}] ${String(pct).padStart(3)}% ${secs}${info}`;
    const cols = this.stream.columns ?? 0;
    if (cols > 1 && line.length > cols - 1) line = line.slice(0, cols - 1);
    // why: redrawing an identical line on every tick only floods the terminal.
    if (line === this.lastLine) return;
    this.lastLine = line;
    this.stream.write(`\r\x1b[K${line}`);
  }
}
