/**
 * Weighted traffic splits (canaries). The cumulative weight table is built
 * once per route at compile time; picking is a short scan.
 */
import { hashString } from '../lib/hash-string.js';
import type { SplitEntry } from '../config/types.js';
import type { ForwardPlan } from './forward-plan.js';

/** A split compiled into parallel arrays with cumulative weights. */
export interface SplitTable {
  readonly upstreams: readonly string[];
  /** `cumulative[i]` = sum of weights 0..i. */
  readonly cumulative: readonly number[];
  readonly total: number;
}

/**
 * Compiles split entries into a cumulative table. Entries with weight 0 stay
 * in the table but can never be picked.
 *
 * @throws Error when the split is empty, a weight is negative/not finite, or all weights are 0.
 */
export function compileSplit(entries: readonly SplitEntry[]): SplitTable {
  if (entries.length === 0) throw new Error('split has no entries');
  const upstreams: string[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const e of entries) {
    if (!Number.isFinite(e.weight) || e.weight < 0) throw new Error(`split weight for "${e.upstream}" must be a finite number >= 0`);
    total += e.weight;
    upstreams.push(e.upstream);
    cumulative.push(total);
  }
  if (total <= 0) throw new Error('split weights sum to 0');
  return { upstreams, cumulative, total };
}

/**
 * The stable 32-bit string hash used for sticky splits (shared with the
 * consistent-hash balancer; see lib/hash-string.ts).
 */
export const hash32 = hashString;

/** Upstream whose cumulative range contains `x` (0 <= x < total). */
export function pickFromTable(table: SplitTable, x: number): string {
  const cum = table.cumulative;
  const last = cum.length - 1;
  for (let i = 0; i < last; i++) {
    if (x < cum[i]) return table.upstreams[i];
  }
  // why: the last positive-weight entry also absorbs float edge cases (x == total).
  for (let i = last; i > 0; i--) {
    if (cum[i] > cum[i - 1]) return table.upstreams[i];
  }
  return table.upstreams[0];
}

/**
 * Picks the upstream for one request.
 *
 * With a sticky value (client IP or a header value, resolved by the caller)
 * the choice is a stable hash of that value, so one client always lands on the
 * same side while the weights hold. Without one (undefined or '', e.g. the
 * sticky header is absent), `random` (in [0, 1), e.g.
 * `Math.random()`) picks proportionally to the weights. For a route without a
 * split this returns `route.upstream`. Pure and deterministic.
 */
export function pickSplit(route: ForwardPlan, stickyValue: string | undefined, random: number): string {
  const table = route.splitTable;
  if (table === null) return route.upstream ?? '';
  const unit = stickyValue !== undefined && stickyValue.length > 0 ? hash32(stickyValue) / 4294967296 : random;
  return pickFromTable(table, unit * table.total);
}
