/**
 * Small formatting helpers shared by the Markdown report, the terminal table
 * and the comparison: error totals, run labels, number formats.
 */
import type { ErrorCounts, ScenarioRun } from '../result-types.js';

/** Error kinds in the order reports list them, with their short names. */
export const ERROR_KINDS: ReadonlyArray<[keyof ErrorCounts, string]> = [
  ['connect', 'connect'], ['timeout', 'timeout'], ['status5xx', '5xx'],
  ['status4xx', '4xx'], ['other', 'other'], ['unfinished', 'unfinished'],
];

/** Sum of every error kind. */
export function errorsTotal(e: ErrorCounts): number {
  return ERROR_KINDS.reduce((a, [k]) => a + (Number.isFinite(e[k]) ? e[k] : 0), 0);
}

/** "0", or "7 (connect 2, 5xx 5)" listing the non-zero kinds. */
export function formatErrors(e: ErrorCounts): string {
  const total = errorsTotal(e);
  if (total === 0) return '0';
  const parts = ERROR_KINDS.filter(([k]) => e[k] > 0).map(([k, name]) => `${name} ${e[k]}`);
  return `${total} (${parts.join(', ')})`;
}

/** Short description of one run: "rest-small closed turnpike w2 c64" (+ " @5000/s" in open loop). */
export function runLabel(r: Pick<ScenarioRun, 'scenario' | 'mode' | 'target' | 'workers' | 'connections' | 'rate'>): string {
  return `${r.scenario} ${r.mode} ${r.target} w${r.workers} c${r.connections}${r.rate === null ? '' : ` @${r.rate}/s`}`;
}

/** Whole number with thousands separators; "–" for null/non-finite. */
export function fmtInt(n: number | null): string {
  return n === null || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US');
}

/** Fixed decimals; "–" for null/non-finite. */
export function fmtFixed(n: number | null, decimals: number): string {
  return n === null || !Number.isFinite(n) ? '–' : n.toFixed(decimals);
}

/** Milliseconds with 3 significant-ish decimals: 0.412, 3.21, 12.5, 1234. */
export function fmtMs(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  return n.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}
