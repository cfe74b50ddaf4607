import type { TargetConfig } from '../../config/types.js';
import type { Target, TargetConnection } from '../target.js';

/** The outcome of {@link nextTargetSet}. */
export interface TargetSetChange<P extends TargetConnection> {
  /** The new target list; `next[i].index === i`. */
  next: Target<P>[];
  /** Targets made for URLs that were not in the set. */
  added: Target<P>[];
  /** Targets whose URL left the set (not yet retired: the group does that). */
  removed: Target<P>[];
}

/**
 * The next target list of a group for a discovered set: a URL already in
 * the set keeps its Target (pool, load, health state; its weight and index
 * are updated in place), a new URL gets one from `make`, and the targets of
 * URLs that left are returned as removed. A repeated URL counts once (the
 * first). A trailing slash is ignored.
 */
export function nextTargetSet<P extends TargetConnection>(
  current: readonly Target<P>[], list: readonly TargetConfig[], make: (t: TargetConfig, index: number) => Target<P>,
): TargetSetChange<P> {
  const old = new Map<string, Target<P>>();
  for (const t of current) old.set(t.url, t);
  const next: Target<P>[] = [];
  const added: Target<P>[] = [];
  const seen = new Set<string>();
  for (const c of list) {
    const url = c.url.endsWith('/') ? c.url.slice(0, -1) : c.url;
    if (seen.has(url)) continue;
    seen.add(url);
    let t = old.get(url);
    if (t === undefined) {
      t = make(c, next.length);
      added.push(t);
    } else {
      old.delete(url);
      t.weight = c.weight > 0 ? c.weight : 1;
      t.index = next.length;
    }
    next.push(t);
  }
  return { next, added, removed: [...old.values()] };
}
